package import GRPCSupport
package import RedisClient
import Routing

/// Reading the node's settings from environment variables (`SWITCHBOARD_*`).
extension NodeConfiguration {
    /// Starts from the defaults and applies every `SWITCHBOARD_*` variable that is set.
    /// The node id defaults to `SWITCHBOARD_NODE_ID`, else `HOSTNAME`, else "node-1".
    package static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> NodeConfiguration {
        let nodeID = environment["SWITCHBOARD_NODE_ID"] ?? environment["HOSTNAME"] ?? "node-1"
        var configuration = NodeConfiguration(
            nodeID: nodeID,
            jwtSecret: environment["SWITCHBOARD_JWT_SECRET"] ?? "",
            pushSecret: environment["SWITCHBOARD_PUSH_SECRET"] ?? ""
        )
        if let host = environment["SWITCHBOARD_HOST"] { configuration.host = host }
        try read(environment, "SWITCHBOARD_PORT", into: &configuration.port)
        try read(environment, "SWITCHBOARD_MAX_FRAME_BYTES", into: &configuration.maxFrameBytes)
        try read(environment, "SWITCHBOARD_QUEUE_MESSAGES", into: &configuration.queueMessages)
        try read(environment, "SWITCHBOARD_QUEUE_BYTES", into: &configuration.queueBytes)
        try readSeconds(environment, "SWITCHBOARD_PING_INTERVAL", into: &configuration.pingInterval)
        try readSeconds(environment, "SWITCHBOARD_DRAIN_WINDOW", into: &configuration.drainWindow)
        try readSeconds(environment, "SWITCHBOARD_CLOSE_TIMEOUT", into: &configuration.closeTimeout)
        try read(environment, "SWITCHBOARD_GRPC_PORT", into: &configuration.grpcPort)
        try readSeconds(environment, "SWITCHBOARD_MEMORY_TRIM_INTERVAL", into: &configuration.memoryTrimInterval)
        try read(environment, "SWITCHBOARD_MAX_CALLS_PER_CONNECTION", into: &configuration.maxCallsPerConnection)
        try read(environment, "SWITCHBOARD_MAX_BACKEND_IN_FLIGHT", into: &configuration.maxBackendInFlight)
        var maxConnections = 0
        try read(environment, "SWITCHBOARD_MAX_CONNECTIONS", into: &maxConnections)
        if environment["SWITCHBOARD_MAX_CONNECTIONS"] != nil { configuration.maxConnections = maxConnections }
        if let text = environment["SWITCHBOARD_REDIS"], !text.isEmpty { configuration.redis = try redisEndpoint(text, key: "SWITCHBOARD_REDIS") }
        if let prefix = environment["SWITCHBOARD_REDIS_PREFIX"] { configuration.redisPrefix = prefix }
        for name in backendNames {
            let key = "SWITCHBOARD_\(name.uppercased())_BACKEND"
            if let text = environment[key] { configuration.backends[name] = try endpoint(text, key: key) }
        }
        return configuration
    }

    /// Parses `redis://host:port`, naming the key when it cannot.
    package static func redisEndpoint(_ text: String, key: String) throws(ConfigurationError) -> RedisEndpoint {
        guard let endpoint = RedisEndpoint(text) else {
            throw ConfigurationError(key: key, problem: "'\(text)' is not redis://host:port")
        }
        return endpoint
    }

    /// Parses `host:port`, naming the key when it cannot.
    package static func endpoint(_ text: String, key: String) throws(ConfigurationError) -> GRPCEndpoint {
        guard let endpoint = GRPCEndpoint(text) else {
            throw ConfigurationError(key: key, problem: "'\(text)' is not host:port")
        }
        return endpoint
    }

    private static func read(_ environment: [String: String], _ key: String, into value: inout Int) throws(ConfigurationError) {
        guard let text = environment[key] else { return }
        guard let parsed = Int(text) else { throw ConfigurationError(key: key, problem: "'\(text)' is not a whole number") }
        value = parsed
    }

    private static func readSeconds(_ environment: [String: String], _ key: String, into value: inout Duration) throws(ConfigurationError) {
        guard let text = environment[key] else { return }
        guard let seconds = Double(text), seconds >= 0 else {
            throw ConfigurationError(key: key, problem: "'\(text)' is not a number of seconds")
        }
        value = .milliseconds(Int64(seconds * 1000))
    }
}
