#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Essentials
import Identity
import JWTKit

/// Checks client tokens (JWT: HS256 with the nodes' secret, and RS256, ES256 or EdDSA
/// with the public keys of a JWKS, selected by `kid`; `sub` = user id; `exp`, `nbf`, `iss`,
/// `aud` and the lifetime as the policy says) and issues HS256 ones.
package struct TokenAuthenticator: Sendable {
    private let keys: JWTKeyCollection
    private let policy: TokenPolicy
    /// The one algorithm each JWKS key (by kid) verifies: a token whose header names
    /// another is refused before any signer is touched.
    private let algorithms: [String: String]
    /// JWKS keys left out, each with its reason (the node logs them).
    package let skippedKeys: [String]
    /// A `--dev` node's: it mints and takes development tokens (`issueDevelopment`).
    private let acceptsDevelopmentTokens: Bool

    /// What marks a development token: its `kid`, and a value of its `aud` that every
    /// other node refuses (its signature, by a key derived from the JWT secret, fails there
    /// anyway: a dev node's /demo/token never mints a token production nodes take).
    package static let developmentKeyID = "switchboard-dev"

    /// HS256 wants a key at least as long as its 32-byte hash.
    package static let minimumSecretBytes = 32

    package init(secret: String) async throws(TokenSecretError) {
        guard secret.utf8.count >= Self.minimumSecretBytes else { throw TokenSecretError() }
        keys = JWTKeyCollection()
        policy = TokenPolicy()
        algorithms = [:]
        skippedKeys = []
        acceptsDevelopmentTokens = false
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    }

    /// The node's: an HS256 secret, the keys of a JWKS document, or both; and a policy.
    /// `developmentTokens` (a `--dev` node) adds the key development tokens are signed
    /// with, derived from `secret`.
    package init(secret: String?, jwks: String?, policy: TokenPolicy, developmentTokens: Bool = false) async throws {
        keys = JWTKeyCollection()
        self.policy = policy
        acceptsDevelopmentTokens = developmentTokens && secret != nil
        if let secret {
            guard secret.utf8.count >= Self.minimumSecretBytes else { throw TokenSecretError() }
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            if developmentTokens {
                let derived = SharedSecret.derived(from: secret, purpose: .developmentTokens)
                await keys.add(hmac: HMACKey(from: derived), digestAlgorithm: .sha256, kid: JWKIdentifier(string: Self.developmentKeyID))
            }
        }
        var algorithms: [String: String] = [:]
        var skipped: [String] = []
        if let jwks {
            let set = try JWKSKeys(json: jwks)
            for key in set.keys {
                try await keys.add(jwk: key.jwk)
                if let kid = key.kid { algorithms[kid] = key.algorithm }
            }
            skipped = set.skipped
        }
        self.algorithms = algorithms
        skippedKeys = skipped
    }

    /// The user id of a valid token.
    package func authenticate(token: String) async throws(AuthenticationError) -> String {
        try await verify(token: token).user
    }

    /// Who a valid token names, and whether it carries the admin claim.
    package func verify(token: String) async throws(AuthenticationError) -> VerifiedToken {
        do {
            try checkAlgorithm(of: token)
            let claims = try await keys.verify(token, as: AccessTokenClaims.self)
            try check(claims)
            if let problem = UserID.problem(claims.sub.value) { throw AuthenticationError.invalid("sub: \(problem)") }
            let expiresAtMs = Self.saturating(claims.exp.value.timeIntervalSince1970 * 1000)
            return VerifiedToken(user: claims.sub.value, isAdmin: claims.admin == true, expiresAtMs: expiresAtMs, topics: claims.topics ?? [])
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

    /// A header that names a JWKS key must name that key's algorithm.
    private func checkAlgorithm(of token: String) throws(AuthenticationError) {
        guard !algorithms.isEmpty, let encoded = token.split(separator: ".", maxSplits: 1).first else { return }
        var base64 = String(encoded.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let header = try? JSONDecoder().decode(Header.self, from: data),
              let kid = header.kid, let expected = algorithms[kid]
        else { return }  // jwt-kit refuses what is malformed, or an unknown kid
        let alg = header.alg ?? "none"
        guard alg == expected else { throw .invalid("alg '\(alg)' does not match key '\(kid)' (\(expected))") }
    }

    /// The policy's checks, with its leeway on both times.
    private func check(_ claims: AccessTokenClaims) throws(AuthenticationError) {
        let now = policy.now()
        let leeway = Double(policy.leeway.components.seconds) + Double(policy.leeway.components.attoseconds) / 1e18
        guard claims.exp.value.timeIntervalSince(now) > -leeway else { throw .expired }
        if let nbf = claims.nbf, nbf.value.timeIntervalSince(now) > leeway {
            throw .invalid("not valid before \(Self.saturating(nbf.value.timeIntervalSince1970)) (nbf)")
        }
        // The refusal names what the token said, never what the node expects: the 401
        // body is read by anyone, and needs not teach them the configuration.
        if let issuer = policy.issuer, claims.iss?.value != issuer {
            throw .invalid("iss '\(claims.iss?.value.prefix(64) ?? "none")' is not an issuer this node accepts")
        }
        if let audience = policy.audience, !(claims.aud?.value.contains(audience) ?? false) {
            throw .invalid("aud does not include this node's audience")
        }
        if !acceptsDevelopmentTokens, claims.aud?.value.contains(Self.developmentKeyID) == true {
            throw .invalid("a development token (minted by a --dev node) is not taken here")
        }
        if let maxLifetime = policy.maxLifetime {
            guard let iat = claims.iat else { throw .invalid("no iat, and tokens may live at most \(maxLifetime)") }
            let lifetime = claims.exp.value.timeIntervalSince(iat.value)
            if lifetime > Double(maxLifetime.components.seconds) + leeway {
                throw .invalid("the token lives \(Self.saturating(lifetime)) s, more than the \(maxLifetime.components.seconds) s allowed")
            }
        }
    }

    /// `value` rounded down, within Int64: a claim is any JSON number, and an identity
    /// provider's "never expires" may be far past what Int64 milliseconds hold (`.max`
    /// then means never, as for a token without expiry).
    package static func saturating(_ value: Double) -> Int64 {
        guard !value.isNaN else { return 0 }
        if value >= 9.2e18 { return .max }
        if value <= -9.2e18 { return .min }
        return Int64(value.rounded(.down))
    }

    /// A token for `user`; `admin` adds the claim the cluster dashboard asks for, `topics`
    /// the topics it may use where a namespace's rule is `claim`.
    package func issue(user: String, validFor ttl: Duration, admin: Bool = false, topics: [String] = []) async throws -> String {
        try await keys.sign(AccessTokenClaims(user: user, expiresAt: Date().addingTimeInterval(ttl.seconds), admin: admin, topics: topics))
    }

    /// A development token for `user` (a `--dev` node's /demo/token): signed with the
    /// development key, for the development audience (and the policy's issuer and audience,
    /// so the node that minted it takes it). Only this node and its `--dev` peers take it.
    package func issueDevelopment(user: String, validFor ttl: Duration) async throws -> String {
        guard acceptsDevelopmentTokens else { throw JWTError.generic(identifier: "development", reason: "this authenticator does not mint development tokens") }
        var claims = AccessTokenClaims(user: user, expiresAt: Date().addingTimeInterval(ttl.seconds))
        claims.iss = policy.issuer.map { IssuerClaim(value: $0) }
        claims.aud = AudienceClaim(value: [Self.developmentKeyID] + (policy.audience.map { [$0] } ?? []))
        return try await keys.sign(claims, kid: JWKIdentifier(string: Self.developmentKeyID))
    }
}

/// What `checkAlgorithm` reads of a token's header.
private struct Header: Decodable {
    let alg: String?
    let kid: String?
}
