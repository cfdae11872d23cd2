import ArgumentParser
import Backends
import Essentials
import Logging

/// `switchboard backends`: the reference Location, Chat and Notification services.
///
/// Their settings are not declared here: they come from `BackendsConfiguration.settings`
/// (one list, read from the environment and these flags), and so does this help.
struct BackendsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backends",
        abstract: "Run the reference Location, Chat and Notification backends (in memory) in one process.",
        discussion: """
            Every setting is read from its SWITCHBOARD_* variable, or its flag (which wins).

            SETTINGS:
            \(BackendsConfiguration.settingList.help(defaults: .defaults))
            """
    )

    @Option(help: "trace, debug, info, notice, warning, error or critical (SWITCHBOARD_LOG_LEVEL; default info).")
    var logLevel: String?
    @Argument(parsing: .allUnrecognized, help: .init("The backends' settings as --key value; listed below.", valueName: "settings"))
    var settings: [String] = []

    func run() async throws {
        let environment = ProcessEnvironment.current
        let configuration: BackendsConfiguration
        do {
            configuration = try BackendsConfiguration.resolve(environment: environment, flags: SettingSources.flags(settings))
        } catch {
            throw ValidationError("\(error)")
        }
        let logger = try LoggingSystem.bootstrapSwitchboard(level: logLevel ?? environment["SWITCHBOARD_LOG_LEVEL"] ?? "info")
        try await ReferenceBackends(configuration: configuration, logger: logger).run()
    }
}
