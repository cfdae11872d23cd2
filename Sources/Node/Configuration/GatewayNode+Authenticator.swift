#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Essentials
import AsyncHTTPClient
import Auth
import NIOCore
import NIOHTTP1

extension GatewayNode {
    /// The token checker the settings describe: the HS256 secret, the JWKS file's keys, the policy.
    static func authenticator(_ configuration: NodeConfiguration) async throws(ConfigurationError) -> TokenAuthenticator {
        if let url = configuration.jwksURL {
            let text: String
            do {
                text = try await fetchJWKS(url)
            } catch {
                throw ConfigurationError(key: "jwks-url", problem: "\(error)")
            }
            return try await authenticator(configuration, jwks: text)
        }
        return try await authenticator(configuration, jwks: try readJWKS(configuration))
    }

    /// The key set the identity provider publishes at `url` (at most 1 MiB, within 10 s).
    static func fetchJWKS(_ url: String) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        guard response.status == .ok else {
            throw JWKSFetchError(description: "\(url) answered \(response.status.code) \(response.status.reasonPhrase)")
        }
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
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
            issuer: configuration.jwtIssuer == "*" ? nil : configuration.jwtIssuer,
            audience: configuration.jwtAudience == "*" ? nil : configuration.jwtAudience, leeway: configuration.jwtLeeway,
            maxLifetime: configuration.jwtMaxLifetime == .zero ? nil : configuration.jwtMaxLifetime
        )
        do {
            return try await TokenAuthenticator(secret: configuration.jwtSecret.isEmpty ? nil : configuration.jwtSecret, jwks: jwks, policy: policy, developmentTokens: configuration.dev)
        } catch let error as TokenSecretError {
            throw ConfigurationError(key: "jwt-secret", problem: error.description)
        } catch {
            throw ConfigurationError(key: configuration.jwksURL == nil ? "jwks-file" : "jwks-url", problem: "is not a usable JSON Web Key Set: \(error)")
        }
    }
}

/// A JWKS URL that did not give a key set.
struct JWKSFetchError: Error, CustomStringConvertible {
    let description: String
}
