import ArgumentParser
import Logging

extension LoggingSystem {
    /// Logs go to stderr, one line each, with their metadata (node, connection, user).
    static func bootstrapSwitchboard(level: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: level) else {
            throw ValidationError("invalid log level '\(level)': use trace, debug, info, notice, warning, error or critical")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "switchboard")
    }
}
