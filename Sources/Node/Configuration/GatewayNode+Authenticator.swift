#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Auth

extension GatewayNode {
    /// The token checker the settings describe: the HS256 secret, the JWKS file's keys, the policy.
    static func authenticator(_ configuration: NodeConfiguration) async throws(ConfigurationError) -> TokenAuthenticator {
        try await authenticator(configuration, jwks: try readJWKS(configuration))
    }

    /// The JWKS file's text (nil without one).
    static func readJWKS(_ configuration: NodeConfiguration) throws(ConfigurationError) -> String? {
        guard let path = configuration.jwksFile else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError(key: "jwks-file", problem: "cannot read '\(path)'")
        }
        return text
    }

    static func authenticator(_ configuration: NodeConfiguration, jwks: String?) async throws(ConfigurationError) -> TokenAuthenticator {
        let policy = TokenPolicy(
            issuer: configuration.jwtIssuer, audience: configuration.jwtAudience, leeway: configuration.jwtLeeway,
            maxLifetime: configuration.jwtMaxLifetime == .zero ? nil : configuration.jwtMaxLifetime
        )
        do {
            return try await TokenAuthenticator(secret: configuration.jwtSecret.isEmpty ? nil : configuration.jwtSecret, jwks: jwks, policy: policy)
        } catch let error as TokenSecretError {
            throw ConfigurationError(key: "jwt-secret", problem: error.description)
        } catch {
            throw ConfigurationError(key: "jwks-file", problem: "is not a usable JSON Web Key Set: \(error)")
        }
    }
}
