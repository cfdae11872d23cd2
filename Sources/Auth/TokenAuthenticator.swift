#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Essentials
import JWTKit

/// Checks client tokens (JWT, HS256, `sub` = user id, `exp` enforced) and issues them.
package struct TokenAuthenticator: Sendable {
    private let keys: JWTKeyCollection

    /// HS256 wants a key at least as long as its 32-byte hash.
    package static let minimumSecretBytes = 32

    package init(secret: String) async throws(TokenSecretError) {
        guard secret.utf8.count >= Self.minimumSecretBytes else { throw TokenSecretError() }
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    }

    /// The user id of a valid token.
    package func authenticate(token: String) async throws(AuthenticationError) -> String {
        try await verify(token: token).user
    }

    /// Who a valid token names, and whether it carries the admin claim.
    package func verify(token: String) async throws(AuthenticationError) -> VerifiedToken {
        do {
            let claims = try await keys.verify(token, as: AccessTokenClaims.self)
            if let problem = UserID.problem(claims.sub.value) { throw AuthenticationError.invalid("sub: \(problem)") }
            let expiresAtMs = Int64((claims.exp.value.timeIntervalSince1970 * 1000).rounded(.down))
            return VerifiedToken(user: claims.sub.value, isAdmin: claims.admin == true, expiresAtMs: expiresAtMs)
        } catch let error as AuthenticationError {
            throw error
        } catch let error as JWTError where error.errorType == .claimVerificationFailure && error.failedClaim is ExpirationClaim {
            throw .expired
        } catch let error as JWTError {
            throw .invalid(error.reason ?? "\(error.errorType)")
        } catch {
            throw .invalid("\(error)")
        }
    }

    /// A token for `user`; `admin` adds the claim the cluster dashboard asks for.
    package func issue(user: String, validFor ttl: Duration, admin: Bool = false) async throws -> String {
        try await keys.sign(AccessTokenClaims(user: user, expiresAt: Date().addingTimeInterval(ttl.seconds), admin: admin))
    }
}
