#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
import Foundation
#endif
package import JWTKit

/// What a client token carries: the user (`sub`) and when it stops being valid (`exp`).
package struct AccessTokenClaims: JWTPayload {
    package var sub: SubjectClaim
    package var exp: ExpirationClaim
    package var iat: IssuedAtClaim?

    package init(user: String, expiresAt: Date, issuedAt: Date = Date()) {
        self.sub = SubjectClaim(value: user)
        self.exp = ExpirationClaim(value: expiresAt)
        self.iat = IssuedAtClaim(value: issuedAt)
    }

    package func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard !sub.value.isEmpty else {
            throw JWTError.claimVerificationFailure(failedClaim: sub, reason: "empty subject")
        }
    }
}
