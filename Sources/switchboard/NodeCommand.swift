import ArgumentParser
import Essentials
import Foundation
import Logging
import Node
import RedisBackplane

#if canImport(Glibc)
import Glibc
#endif

/// `switchboard node`: runs one gateway node until SIGTERM or SIGINT.
///
/// The node's settings are not declared here: they come from `NodeConfiguration.settings`
/// (one list, read from a file, the environment and these flags), and so does this help.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a gateway node.",
        discussion: """
            Every setting is read from, in increasing precedence: the file given by --config \
            (SWITCHBOARD_CONFIG; lines of 'key = value'), its SWITCHBOARD_* variable, its flag.

            SETTINGS:
            \(NodeConfiguration.settingsHelp)
            """
    )

    @Option(help: "A file of 'key = value' lines, keys as the flags below without '--' (SWITCHBOARD_CONFIG).")
    var config: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (SWITCHBOARD_LOG_LEVEL; default info).")
    var logLevel: String?
    @Flag(help: "Check the settings (as the node would start with them) and exit: 0 when they are valid, else the problem.")
    var checkConfig = false
    @Argument(parsing: .allUnrecognized, help: .init("The node's settings as --key value; listed below.", valueName: "settings"))
    var settings: [String] = []

    func run() async throws {
        let environment = ProcessEnvironment.current
        let configuration: NodeConfiguration
        // The log level is the command's, not the node's: a config file may set it too.
        var fileLogLevel: String?
        do {
            var file: [String: String] = [:]
            if let path = config ?? environment["SWITCHBOARD_CONFIG"] {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ConfigurationError(key: "config", problem: "cannot read \(path)")
                }
                file = try SettingSources.fileLines(text, path: path)
                fileLogLevel = file.removeValue(forKey: "log-level")
            }
            configuration = try NodeConfiguration.resolve(file: file, environment: environment, flags: SettingSources.flags(settings))
            try configuration.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        let level = logLevel ?? environment["SWITCHBOARD_LOG_LEVEL"] ?? fileLogLevel ?? "info"
        guard Logger.Level(rawValue: level) != nil else {
            throw ValidationError("invalid log level '\(level)': use trace, debug, info, notice, warning, error or critical")
        }
        if checkConfig {
            print("configuration ok (node id: \(configuration.nodeID), log level: \(level), redis: \(configuration.redis?.description ?? "none, single node"))")
            return
        }
        let logger = try LoggingSystem.bootstrapSwitchboard(level: level)
        let node = try await GatewayNode(configuration: configuration, logger: logger)
        logger.info("starting", metadata: [
            "listen": "\(configuration.host):\(configuration.port)", "gateway-api": "\(configuration.host):\(configuration.grpcPort)",
            "redis": "\(configuration.redis?.description ?? "none (single node)")",
        ])
        try await node.run()
        logger.info("stopped")
    }
}
