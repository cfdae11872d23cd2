#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
import Foundation
#endif
package import JWTKit

/// What a client token carries: the user (`sub`), when it stops being valid (`exp`), and
/// whether its holder may watch the cluster (`admin`, for the dashboard), and which topics
/// it may use in namespaces whose rule is `claim` (`topics`: names, or prefixes ending in `*`).
package struct AccessTokenClaims: JWTPayload {
    package var sub: SubjectClaim
    package var exp: ExpirationClaim
    package var iat: IssuedAtClaim?
    package var nbf: NotBeforeClaim?
    package var iss: IssuerClaim?
    package var aud: AudienceClaim?
    package var admin: Bool?
    package var topics: [String]?

    package init(user: String, expiresAt: Date, issuedAt: Date = Date(), admin: Bool = false, topics: [String] = []) {
        self.sub = SubjectClaim(value: user)
        self.exp = ExpirationClaim(value: expiresAt)
        self.iat = IssuedAtClaim(value: issuedAt)
        self.admin = admin ? true : nil
        self.topics = topics.isEmpty ? nil : topics
    }

    /// Only what needs no policy: times, issuer and audience are `TokenAuthenticator`'s.
    package func verify(using algorithm: some JWTAlgorithm) async throws {
        guard !sub.value.isEmpty else {
            throw JWTError.claimVerificationFailure(failedClaim: sub, reason: "empty subject")
        }
    }
}
