#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JWTKit

/// Checks client tokens (JWT, HS256, `sub` = user id, `exp` enforced) and issues them.
public struct TokenAuthenticator: Sendable {
    private let keys: JWTKeyCollection

    /// HS256 wants a key at least as long as its 32-byte hash.
    public static let minimumSecretBytes = 32

    public init(secret: String) async throws(ConfigurationError) {
        guard secret.utf8.count >= Self.minimumSecretBytes else {
            throw ConfigurationError(key: "jwt-secret", problem: "must be at least \(Self.minimumSecretBytes) bytes long for HS256")
        }
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    }

    /// The user id of a valid token.
    public func authenticate(token: String) async throws(AuthenticationError) -> String {
        do {
            let claims = try await keys.verify(token, as: AccessTokenClaims.self)
            return claims.sub.value
        } catch let error as JWTError where error.errorType == .claimVerificationFailure && error.failedClaim is ExpirationClaim {
            throw .expired
        } catch let error as JWTError {
            throw .invalid(error.reason ?? "\(error.errorType)")
        } catch {
            throw .invalid("\(error)")
        }
    }

    /// The user id of the token a client request carries.
    func authenticate(request: ClientRequest) async throws(AuthenticationError) -> String {
        guard let token = request.token else { throw .missingToken }
        return try await authenticate(token: token)
    }

    public func issue(user: String, validFor ttl: Duration) async throws -> String {
        let seconds = Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18
        return try await keys.sign(AccessTokenClaims(user: user, expiresAt: Date().addingTimeInterval(seconds)))
    }
}
