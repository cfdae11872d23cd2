import Essentials
import Foundation
import GRPCSupport
import Node
import RedisBackplane
import RedisClient
import Routing
import Testing
import NodeTestSupport
import TestSupport

/// What containers and pods rely on: settings from SWITCHBOARD_* variables, the node id
/// from the host name, and bad values refused with the key named.
@Suite("Node configuration from the environment")
struct NodeConfigurationTests {
    static let secrets = ["SWITCHBOARD_JWT_SECRET": String(repeating: "j", count: 32), "SWITCHBOARD_PUSH_SECRET": String(repeating: "p", count: 16)]

    @Test("the node id is SWITCHBOARD_NODE_ID, else the system host name (a container's or pod's name, not $HOSTNAME); drain settings are read in seconds")
    func nodeIDAndDrainSettings() throws {
        var environment = Self.secrets.merging(["HOSTNAME": "stale-shell-variable", "SWITCHBOARD_DRAIN_WINDOW": "20", "SWITCHBOARD_CLOSE_TIMEOUT": "0.5"]) { $1 }
        var configuration = try NodeConfiguration.resolve(environment: environment, hostName: "switchboard-node-7d9f-abcde")
        #expect(configuration.nodeID == "switchboard-node-7d9f-abcde")
        #expect(try NodeConfiguration.resolve(environment: environment, hostName: nil).nodeID == "node-1")
        // The real thing: what the kernel calls this machine (`hostname`), whatever the shell exports.
        let system = try #require(SystemHostName.current)
        #expect(try NodeConfiguration.resolve(environment: environment).nodeID == system)
        #expect(configuration.drainWindow == .seconds(20))
        #expect(configuration.closeTimeout == .milliseconds(500))
        try configuration.validate()
        environment["SWITCHBOARD_NODE_ID"] = "edge-1"
        configuration = try NodeConfiguration.resolve(environment: environment)
        #expect(configuration.nodeID == "edge-1")
    }

    @Test("a namespace that asks a backend needs --topic-authorizer, and the environment sets it and its timing")
    func topicAuthorizerSettings() throws {
        let backend = ["SWITCHBOARD_TOPIC_NAMESPACES": "dm:subscribe=backend,publish=any"]
        let missing = try NodeConfiguration.resolve(environment: Self.secrets.merging(backend) { $1 })
        let error = #expect(throws: ConfigurationError.self) { try missing.validate() }
        #expect(error?.key == "topic-namespaces")
        #expect("\(error.map { "\($0)" } ?? "")".contains("--topic-authorizer"))
        let set = try NodeConfiguration.resolve(environment: Self.secrets.merging(backend.merging([
            "SWITCHBOARD_TOPIC_AUTHORIZER": "127.0.0.1:9102", "SWITCHBOARD_TOPIC_AUTHORIZER_TIMEOUT": "0.25",
            "SWITCHBOARD_TOPIC_AUTHORIZATION_TTL": "0",
        ]) { $1 }) { $1 })
        try set.validate()
        #expect(set.topicAuthorizer?.description == "127.0.0.1:9102")
        #expect(set.topicAuthorizerTimeout == .milliseconds(250))
        #expect(set.topicAuthorizationTTL == .zero)
        #expect(set.topicNamespaces.rules(for: "dm:a+b")?.subscribe == .backend)
    }

    @Test("dev (tokens for anyone at /demo/token) is refused on a host others reach, and beside TLS or a JWKS")
    func devStaysLocal() throws {
        for (variables, reason) in [
            (["SWITCHBOARD_DEV": "true", "SWITCHBOARD_HOST": "0.0.0.0"], "loopback"),
            (["SWITCHBOARD_DEV": "true", "SWITCHBOARD_HOST": "10.1.2.3"], "loopback"),
            ([
                "SWITCHBOARD_DEV": "true", "SWITCHBOARD_JWKS_URL": "http://127.0.0.1:9/jwks.json",
                "SWITCHBOARD_JWT_ISSUER": "*", "SWITCHBOARD_JWT_AUDIENCE": "*",
            ], "JWKS"),
        ] {
            let configuration = try NodeConfiguration.resolve(environment: Self.secrets.merging(variables) { $1 })
            let error = #expect(throws: ConfigurationError.self) { try configuration.validate() }
            #expect(error?.key == "dev")
            #expect("\(error.map { "\($0)" } ?? "")".contains(reason), "\(variables)")
        }
        for host in ["127.0.0.1", "localhost", "::1"] {
            try NodeConfiguration.resolve(environment: Self.secrets.merging(["SWITCHBOARD_DEV": "true", "SWITCHBOARD_HOST": host]) { $1 }).validate()
        }
        try NodeConfiguration.resolve(environment: Self.secrets.merging(["SWITCHBOARD_HOST": "0.0.0.0"]) { $1 }).validate()
    }

    @Test("a drain window that is not a number, or too short, and a zero close timeout are refused naming the key")
    func badDrainSettings() throws {
        let notANumber = #expect(throws: ConfigurationError.self) {
            _ = try NodeConfiguration.resolve(environment: Self.secrets.merging(["SWITCHBOARD_DRAIN_WINDOW": "soon"]) { $1 })
        }
        #expect(notANumber?.key == "SWITCHBOARD_DRAIN_WINDOW")
        var configuration = try NodeConfiguration.resolve(environment: Self.secrets.merging(["SWITCHBOARD_DRAIN_WINDOW": "0"]) { $1 })
        do {
            try configuration.validate()
            Issue.record("a zero drain window was accepted")
        } catch {
            #expect(error.key == "drain-window")
        }
        configuration.drainWindow = .seconds(5)
        configuration.closeTimeout = .zero
        do {
            try configuration.validate()
            Issue.record("a zero close timeout was accepted")
        } catch {
            #expect(error.key == "close-timeout")
        }
    }
}

/// The one list of node settings, read from a file, the environment and flags.
@Suite("Node settings from a file, the environment and flags")
struct NodeSettingsTests {
    @Test("a flag beats its variable, which beats the config file, which beats the default")
    func precedence() throws {
        let file = try SettingSources.fileLines(
            """
            # a node's config
            port = 9000
            ping-interval = 12   # seconds
            queue-messages=77

            redis = redis://cache:6380
            """, path: "node.conf"
        )
        let configuration = try NodeConfiguration.resolve(
            file: file,
            environment: ["SWITCHBOARD_PORT": "9001", "SWITCHBOARD_PING_INTERVAL": "0.5"],
            flags: try SettingSources.flags(["--port", "9002", "--location-backend=loc:9101"]),
            hostName: "pod-7"
        )
        #expect(configuration.port == 9002)
        #expect(configuration.pingInterval == .milliseconds(500))
        #expect(configuration.queueMessages == 77)
        #expect(configuration.redis?.redis.host == "cache" && configuration.redis?.redis.port == 6380)
        #expect(configuration.backends["location"]?.description == "loc:9101")
        #expect(configuration.nodeID == "pod-7")
        #expect(configuration.maxFrameBytes == 64 * 1024, "an unset setting keeps its default")
    }

    @Test("an unknown key, a flag without a value, a malformed line and a bad value are refused naming where")
    func refusals() throws {
        #expect(throws: ConfigurationError.self) { _ = try NodeConfiguration.resolve(file: ["prot": "1"], environment: [:]) }
        let flag = #expect(throws: ConfigurationError.self) {
            _ = try NodeConfiguration.resolve(environment: [:], flags: try SettingSources.flags(["--bogus", "1"]))
        }
        #expect(flag?.key == "--bogus")
        let dangling = #expect(throws: ConfigurationError.self) { _ = try SettingSources.flags(["--port"]) }
        #expect(dangling?.key == "--port")
        let line = #expect(throws: ConfigurationError.self) { _ = try SettingSources.fileLines("port 9000", path: "n.conf") }
        #expect(line?.key == "n.conf:1")
        let value = #expect(throws: ConfigurationError.self) {
            _ = try NodeConfiguration.resolve(environment: [:], flags: ["queue-bytes": "lots"])
        }
        #expect(value?.key == "--queue-bytes")
        var configuration = try NodeConfiguration.resolve(environment: NodeConfigurationTests.secrets, flags: ["port": "70000"])
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration.port = 0
        try configuration.validate()
    }

    @Test("Redis credentials from the URL, or the password from a file (a mounted secret); a missing file or no --redis is refused")
    func redisCredentials() throws {
        let fromURL = try NodeConfiguration.resolve(environment: NodeConfigurationTests.secrets.merging(["SWITCHBOARD_REDIS": "redis://node:pw@redis:6379/1"]) { $1 })
        #expect(fromURL.redis?.redis == RedisEndpoint(host: "redis", port: 6379, username: "node", password: "pw", database: 1))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("redis-password-\(UUID().uuidString)")
        try "from-a-secret\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try NodeConfiguration.resolve(
            environment: NodeConfigurationTests.secrets, flags: ["redis": "redis://node@redis:6379", "redis-password-file": file.path]
        )
        #expect(fromFile.redis?.redis.username == "node" && fromFile.redis?.redis.password == "from-a-secret")
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(environment: NodeConfigurationTests.secrets, flags: ["redis": "redis://redis", "redis-password-file": "/nonexistent"])
        }
        #expect(throws: ConfigurationError.self) { try NodeConfiguration.resolve(environment: NodeConfigurationTests.secrets, flags: ["redis-password-file": file.path]) }
        #expect(throws: ConfigurationError.self) { try NodeConfiguration.resolve(environment: NodeConfigurationTests.secrets, flags: ["redis": "redis://:%zz@redis"]) }
        // The password as a variable (docker-compose has no file to mount).
        let fromVariable = try NodeConfiguration.resolve(
            environment: NodeConfigurationTests.secrets.merging(["SWITCHBOARD_REDIS": "redis://redis:6379", "SWITCHBOARD_REDIS_PASSWORD": "s3cret-Pa55"]) { $1 }
        )
        #expect(fromVariable.redis?.redis.password == "s3cret-Pa55" && fromVariable.redis?.redis.host == "redis")
        #expect(throws: ConfigurationError.self) { try NodeConfiguration.resolve(environment: NodeConfigurationTests.secrets, flags: ["redis-password": "x"]) }
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(environment: NodeConfigurationTests.secrets, flags: ["redis": "redis://r", "redis-password": "x", "redis-password-file": file.path])
        }
    }

    @Test("a node refuses the placeholder secrets the deployment files ship, naming the key and the way out")
    func placeholderSecrets() throws {
        // The example of the env file the Kubernetes Secret is generated from.
        let shipped = try String(contentsOfFile: "ops/k8s/secrets.env.example", encoding: .utf8)
        let values = shipped.split(separator: "\n").compactMap { line -> (String, String)? in
            guard !line.hasPrefix("#") else { return nil }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return parts.count == 2 && parts[0].hasSuffix("-secret") ? (parts[0], parts[1]) : nil
        }
        #expect(values.count == 2)
        for (key, value) in values {
            var environment = NodeConfigurationTests.secrets
            environment[key == "jwt-secret" ? "SWITCHBOARD_JWT_SECRET" : "SWITCHBOARD_PUSH_SECRET"] = value
            do {
                try NodeConfiguration.resolve(environment: environment).validate()
                Issue.record("\(key) \(value) was accepted")
            } catch {
                #expect(error.key == key && error.problem.contains("switchboard secret"), "\(error)")
            }
        }
    }

    @Test("help lists every setting once, with its flag, its variable and its default")
    func help() {
        let help = NodeConfiguration.settingsHelp
        for setting in NodeConfiguration.settings {
            #expect(help.components(separatedBy: "--\(setting.key), \(setting.environmentName):").count == 2, "\(setting.key)")
        }
        #expect(help.contains("--drain-window, SWITCHBOARD_DRAIN_WINDOW:") && help.contains("Default: 10."))
        #expect(Set(NodeConfiguration.settings.map(\.key)).count == NodeConfiguration.settings.count)
    }

    @Test("docs/configuration.md's settings table has a row for every node setting, with its variable, and none for settings that do not exist")
    func readmeTable() throws {
        let rows = try DocumentedSettings.rows(section: "## `switchboard node`")
        for setting in NodeConfiguration.settings {
            let row = rows[setting.key]
            #expect(row != nil, "docs/configuration.md lacks a row for --\(setting.key)")
            #expect(row == nil || row!.contains(setting.environmentName), "docs/configuration.md's row for --\(setting.key) names \(row ?? "") instead of \(setting.environmentName)")
        }
        let keys = Set(NodeConfiguration.settings.map(\.key))
        // --config and --log-level are the command's own (read before the settings).
        #expect(Set(rows.keys).subtracting(keys).subtracting(["config", "log-level"]).isEmpty, "rows for no setting: \(Set(rows.keys).subtracting(keys).sorted())")
    }
}
