#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// What a client token must say besides its signature, as identity providers issue them.
package struct TokenPolicy: Sendable {
    /// The `iss` a token must carry (nil: any).
    package var issuer: String?
    /// A value the token's `aud` must include (nil: any).
    package var audience: String?
    /// Clock skew forgiven on `exp` and `nbf`.
    package var leeway: Duration
    /// The longest a token may live from `iat` to `exp` (nil: no limit); a token without
    /// `iat` is then refused.
    package var maxLifetime: Duration?
    /// Now, for tests that need another time.
    package var now: @Sendable () -> Date

    package init(
        issuer: String? = nil, audience: String? = nil, leeway: Duration = .zero, maxLifetime: Duration? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.maxLifetime = maxLifetime
        self.now = now
    }
}
