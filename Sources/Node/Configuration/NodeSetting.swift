package import Essentials

/// One node setting (`Setting`): `NodeConfiguration.settings` lists them all.
package typealias NodeSetting = Setting<NodeConfiguration>

extension Setting where Root == NodeConfiguration {
    /// `jwt-issuer`, `jwt-audience`: one identity provider signs tokens for many apps, so
    /// with a JWKS the node must be told which are its own — or `*`, said out loud.
    static func identityClaim(_ key: String, _ path: Path<String?>, help: String) -> NodeSetting {
        NodeSetting(
            key: key, help: help,
            read: { configuration, text, _ in configuration[keyPath: path] = text.isEmpty ? nil : text },
            show: { $0[keyPath: path] },
            check: { configuration in
                guard configuration[keyPath: path] == nil, configuration.jwksFile != nil || configuration.jwksURL != nil else { return nil }
                return "must be set with a JWKS (an identity provider signs tokens for other apps too); '*' accepts any"
            }
        )
    }
}
