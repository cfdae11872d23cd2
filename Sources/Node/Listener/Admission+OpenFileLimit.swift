import Essentials
import Logging

extension Admission {
    /// Slots for `max-connections`, or, unset, for as many as the open-file limit (raised
    /// to its hard limit first) leaves room for; warns when the setting is past that.
    convenience init(configuration: NodeConfiguration, logger: Logger) {
        let files = OpenFileLimit.raiseToHard()
        let maxConnections = configuration.maxConnections ?? max(files - OpenFileLimit.reserved, 1)
        self.init(maxConnections: maxConnections, configuration: configuration)
        if maxConnections > files - OpenFileLimit.reserved {
            logger.warning(
                "max-connections is above what the open-file limit allows; connections past it will fail to be accepted",
                metadata: ["max-connections": "\(maxConnections)", "open-file-limit": "\(files)"]
            )
        }
        logger.info("connection limit", metadata: ["max-connections": "\(maxConnections)", "open-file-limit": "\(files)"])
    }
}
