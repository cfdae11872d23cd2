import Auth
import Foundation
import JWTKit
import Testing

/// Validly signed tokens whose time claims are far past what Int64 holds: each is
/// answered (accepted, or refused saying why), never a trap that takes the node down.
@Suite("Tokens with extreme claims")
struct ExtremeClaimTests {
    static let secret = String(repeating: "s", count: 32)

    private static func sign(_ claims: AccessTokenClaims) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    private static func claims(exp: Double, iat: Double = 0, nbf: Double? = nil) -> AccessTokenClaims {
        var claims = AccessTokenClaims(user: "edge", expiresAt: Date(timeIntervalSince1970: exp), issuedAt: Date(timeIntervalSince1970: iat))
        claims.nbf = nbf.map { NotBeforeClaim(value: Date(timeIntervalSince1970: $0)) }
        return claims
    }

    @Test("an exp past Int64 milliseconds means never; one that fits is kept to the millisecond")
    func hugeExpiry() async throws {
        let authenticator = try await TokenAuthenticator(secret: Self.secret, jwks: nil, policy: TokenPolicy())
        for exp in [1e19, 1e300, Double(Int64.max)] {
            let verified = try await authenticator.verify(token: try await Self.sign(Self.claims(exp: exp)))
            #expect(verified.expiresAtMs == .max, "exp \(exp)")
        }
        let verified = try await authenticator.verify(token: try await Self.sign(Self.claims(exp: 8.64e12)))
        #expect(verified.expiresAtMs == 8_640_000_000_000_000)
    }

    @Test("an nbf far in the future, or a lifetime past Int64 seconds, is refused with its reason")
    func refusedWithReason() async throws {
        let authenticator = try await TokenAuthenticator(secret: Self.secret, jwks: nil, policy: TokenPolicy(maxLifetime: .seconds(3600)))
        for (claims, reason) in [
            (Self.claims(exp: 1e20, iat: Date().timeIntervalSince1970, nbf: 1e20), "not valid before"),
            (Self.claims(exp: 1e20, iat: -1e20), "the token lives"),
        ] {
            let token = try await Self.sign(claims)
            await #expect { _ = try await authenticator.verify(token: token) } throws: { error in
                guard case .invalid(let message) = error as? AuthenticationError else { return false }
                return message.contains(reason)
            }
        }
        #expect(TokenAuthenticator.saturating(.nan) == 0)
        #expect(TokenAuthenticator.saturating(-1e300) == .min)
        #expect(TokenAuthenticator.saturating(-1.5) == -2)
    }
}
