import Backends
import Essentials
import GRPCSupport
import Testing
import NodeTestSupport
import TestSupport

/// `switchboard backends` reads its settings through the same engine as the node: each
/// from its variable or its flag (the flag wins), with clear errors.
@Suite("Reference backends' settings")
struct BackendsConfigurationTests {
    private let secret = ["SWITCHBOARD_PUSH_SECRET": "a-push-secret-of-some-length"]

    @Test("variables and flags (the flag wins), with the backends' own variable names and the defaults")
    func resolves() throws {
        let configuration = try BackendsConfiguration.resolve(
            environment: secret.merging([
                "SWITCHBOARD_BACKENDS_HOST": "0.0.0.0", "SWITCHBOARD_CHAT_PORT": "7002", "SWITCHBOARD_GATEWAY": "a:1",
                "SWITCHBOARD_BACKENDS_TLS_CERT_FILE": "c.pem", "SWITCHBOARD_BACKENDS_TLS_KEY_FILE": "k.pem",
            ]) { $1 },
            flags: try SettingSources.flags(["--chat-port", "7003", "--gateway=n1:8081,n2:8081", "--client-ca-file", "ca.pem"])
        )
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.chatPort == 7003 && configuration.locationPort == 9101)
        #expect(configuration.gateways == [GRPCEndpoint(host: "n1", port: 8081), GRPCEndpoint(host: "n2", port: 8081)])
        #expect(configuration.tls?.certFile == "c.pem" && configuration.tls?.clientCAFile == "ca.pem")
        #expect(configuration.gatewayTLS == nil)
        let defaults = try BackendsConfiguration.resolve(environment: secret, flags: [:])
        #expect(defaults.gateways == [GRPCEndpoint(host: "127.0.0.1", port: 8081)] && defaults.tls == nil)
    }

    @Test("a missing push secret, an unknown flag, a half TLS pair, a bad port or gateway is refused, naming the setting", arguments: [
        ([:], [String](), "push-secret"),
        (["SWITCHBOARD_PUSH_SECRET": "a-push-secret-of-some-length"], ["--bogus", "1"], "--bogus"),
        (["SWITCHBOARD_PUSH_SECRET": "a-push-secret-of-some-length"], ["--tls-cert-file", "c.pem"], "tls-cert-file"),
        (["SWITCHBOARD_PUSH_SECRET": "a-push-secret-of-some-length"], ["--client-ca-file", "ca.pem"], "client-ca-file"),
        (["SWITCHBOARD_PUSH_SECRET": "a-push-secret-of-some-length", "SWITCHBOARD_LOCATION_PORT": "70000"], [], "location-port"),
        (["SWITCHBOARD_PUSH_SECRET": "a-push-secret-of-some-length"], ["--gateway", "nowhere"], "--gateway"),
        (["SWITCHBOARD_PUSH_SECRET": "a-push-secret-of-some-length"], ["--backend-secret", "short"], "backend-secret"),
    ])
    func refuses(environment: [String: String], arguments: [String], key: String) throws {
        let error = #expect(throws: ConfigurationError.self) {
            _ = try BackendsConfiguration.resolve(environment: environment, flags: try SettingSources.flags(arguments))
        }
        #expect(error?.key == key, "\(String(describing: error))")
    }

    @Test("the help lists every setting with its flag and variable")
    func help() {
        let help = BackendsConfiguration.settingList.help(defaults: .defaults)
        for setting in BackendsConfiguration.settings {
            #expect(help.contains("--\(setting.key), \(setting.environmentName):"), "\(setting.key)")
        }
        #expect(help.contains("SWITCHBOARD_BACKENDS_TLS_CERT_FILE") && !help.contains("SWITCHBOARD_TLS_CERT_FILE"))
    }

    @Test("docs/configuration.md has a row for every setting, naming its variable, and none for a setting that does not exist")
    func documented() throws {
        let rows = try DocumentedSettings.rows(section: "## `switchboard backends`")
        for setting in BackendsConfiguration.settings {
            #expect(rows[setting.key]?.contains(setting.environmentName) == true, "--\(setting.key): \(rows[setting.key] ?? "no row")")
        }
        #expect(Set(rows.keys) == Set(BackendsConfiguration.settings.map(\.key)), "rows for no setting: \(Set(rows.keys).subtracting(BackendsConfiguration.settings.map(\.key)))")
    }
}
