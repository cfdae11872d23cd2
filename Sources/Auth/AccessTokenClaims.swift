#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
import Foundation
#endif
package import JWTKit

/// What a client token carries: the user (`sub`), when it stops being valid (`exp`), and
/// whether its holder may watch the cluster (`admin`, for the dashboard).
package struct AccessTokenClaims: JWTPayload {
    package var sub: SubjectClaim
    package var exp: ExpirationClaim
    package var iat: IssuedAtClaim?
    package var nbf: NotBeforeClaim?
    package var iss: IssuerClaim?
    package var aud: AudienceClaim?
    package var admin: Bool?

    package init(user: String, expiresAt: Date, issuedAt: Date = Date(), admin: Bool = false) {
        self.sub = SubjectClaim(value: user)
        self.exp = ExpirationClaim(value: expiresAt)
        self.iat = IssuedAtClaim(value: issuedAt)
        self.admin = admin ? true : nil
    }

    /// Only what needs no policy: times, issuer and audience are `TokenAuthenticator`'s.
    package func verify(using algorithm: some JWTAlgorithm) async throws {
        guard !sub.value.isEmpty else {
            throw JWTError.claimVerificationFailure(failedClaim: sub, reason: "empty subject")
        }
    }
}
