import Node
import Testing

/// What containers and pods rely on: settings from SWITCHBOARD_* variables, the node id
/// from the host name, and bad values refused with the key named.
@Suite("Node configuration from the environment")
struct NodeConfigurationTests {
    static let secrets = ["SWITCHBOARD_JWT_SECRET": String(repeating: "j", count: 32), "SWITCHBOARD_PUSH_SECRET": String(repeating: "p", count: 16)]

    @Test("the node id is SWITCHBOARD_NODE_ID, else HOSTNAME (a container's or pod's name); drain settings are read in seconds")
    func nodeIDAndDrainSettings() throws {
        var environment = Self.secrets.merging(["HOSTNAME": "switchboard-node-7d9f-abcde", "SWITCHBOARD_DRAIN_WINDOW": "20", "SWITCHBOARD_CLOSE_TIMEOUT": "0.5"]) { $1 }
        var configuration = try NodeConfiguration.fromEnvironment(environment)
        #expect(configuration.nodeID == "switchboard-node-7d9f-abcde")
        #expect(configuration.drainWindow == .seconds(20))
        #expect(configuration.closeTimeout == .milliseconds(500))
        try configuration.validate()
        environment["SWITCHBOARD_NODE_ID"] = "edge-1"
        configuration = try NodeConfiguration.fromEnvironment(environment)
        #expect(configuration.nodeID == "edge-1")
    }

    @Test("a drain window that is not a number, or too short, and a zero close timeout are refused naming the key")
    func badDrainSettings() throws {
        let notANumber = #expect(throws: ConfigurationError.self) {
            _ = try NodeConfiguration.fromEnvironment(Self.secrets.merging(["SWITCHBOARD_DRAIN_WINDOW": "soon"]) { $1 })
        }
        #expect(notANumber?.key == "SWITCHBOARD_DRAIN_WINDOW")
        var configuration = try NodeConfiguration.fromEnvironment(Self.secrets.merging(["SWITCHBOARD_DRAIN_WINDOW": "0"]) { $1 })
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
