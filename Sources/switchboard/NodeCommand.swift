import RedisClient
import ArgumentParser
import Logging
import Node

#if canImport(Glibc)
import Glibc
#endif

/// `switchboard node`: runs one gateway node until SIGTERM or SIGINT.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a gateway node.",
        discussion: "Every flag can also be given as the environment variable in its help; the flag wins."
    )

    @Option(help: "Address to listen on (SWITCHBOARD_HOST; default 127.0.0.1).")
    var host: String?
    @Option(help: "Port to listen on; 0 picks a free one (SWITCHBOARD_PORT; default 8080).")
    var port: Int?
    @Option(help: "Node id, unique in the cluster (SWITCHBOARD_NODE_ID, else HOSTNAME, else node-1).")
    var nodeID: String?
    @Option(help: "HS256 secret client tokens are signed with (SWITCHBOARD_JWT_SECRET; required).")
    var jwtSecret: String?
    @Option(help: "Largest client message in bytes; larger closes with 1009 (SWITCHBOARD_MAX_FRAME_BYTES; default 65536).")
    var maxFrameBytes: Int?
    @Option(help: "Outbound frames a connection may have queued before it is closed as a slow consumer (SWITCHBOARD_QUEUE_MESSAGES; default 1024).")
    var queueMessages: Int?
    @Option(help: "Outbound bytes a connection may have queued before it is closed as a slow consumer (SWITCHBOARD_QUEUE_BYTES; default 4194304).")
    var queueBytes: Int?
    @Option(help: "Seconds between pings; a client silent for that long after a ping is closed (SWITCHBOARD_PING_INTERVAL; default 30).")
    var pingInterval: Double?
    @Option(help: "Seconds over which SIGTERM closes the clients (with 1012, reconnect elsewhere) before the node exits (SWITCHBOARD_DRAIN_WINDOW; default 10).")
    var drainWindow: Double?
    @Option(help: "Seconds a client gets to answer a close frame before its socket is dropped (SWITCHBOARD_CLOSE_TIMEOUT; default 2).")
    var closeTimeout: Double?
    @Option(help: "Port of the Gateway gRPC API backends push through; 0 picks a free one (SWITCHBOARD_GRPC_PORT; default 8081).")
    var grpcPort: Int?
    @Option(help: "Secret backends send as 'authorization: Bearer <secret>' (SWITCHBOARD_PUSH_SECRET; required, >= 16 bytes).")
    var pushSecret: String?
    @Option(help: "host:port of the Location backend (SWITCHBOARD_LOCATION_BACKEND).")
    var locationBackend: String?
    @Option(help: "host:port of the Chat backend (SWITCHBOARD_CHAT_BACKEND).")
    var chatBackend: String?
    @Option(help: "host:port of the Notification backend (SWITCHBOARD_NOTIFICATION_BACKEND).")
    var notificationBackend: String?
    @Option(help: "Backend calls one client may have in flight (SWITCHBOARD_MAX_CALLS_PER_CONNECTION; default 32).")
    var maxCallsPerConnection: Int?
    @Option(help: "Calls in flight to one backend from this node (SWITCHBOARD_MAX_BACKEND_IN_FLIGHT; default 1000).")
    var maxBackendInFlight: Int?
    @Option(help: "Client connections held at most; more are refused with 503 (SWITCHBOARD_MAX_CONNECTIONS; default: open-file limit - 256).")
    var maxConnections: Int?
    @Option(help: "Seconds between returning freed heap memory to the OS; 0 turns it off (SWITCHBOARD_MEMORY_TRIM_INTERVAL; default 10).")
    var memoryTrimInterval: Double?
    @Option(help: "redis://host:port of the cluster's Redis; unset runs the node alone (SWITCHBOARD_REDIS).")
    var redis: String?
    @Option(help: "Prefix of every Redis key and channel (SWITCHBOARD_REDIS_PREFIX; default sb:).")
    var redisPrefix: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (SWITCHBOARD_LOG_LEVEL; default info).")
    var logLevel: String?

    func run() async throws {
        let environment = ProcessEnvironment.current
        var configuration = try NodeConfiguration.fromEnvironment(environment)
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let nodeID { configuration.nodeID = nodeID }
        if let jwtSecret { configuration.jwtSecret = jwtSecret }
        if let maxFrameBytes { configuration.maxFrameBytes = maxFrameBytes }
        if let queueMessages { configuration.queueMessages = queueMessages }
        if let queueBytes { configuration.queueBytes = queueBytes }
        if let pingInterval { configuration.pingInterval = .milliseconds(Int64(pingInterval * 1000)) }
        if let drainWindow { configuration.drainWindow = .milliseconds(Int64(drainWindow * 1000)) }
        if let closeTimeout { configuration.closeTimeout = .milliseconds(Int64(closeTimeout * 1000)) }
        if let grpcPort { configuration.grpcPort = grpcPort }
        if let memoryTrimInterval { configuration.memoryTrimInterval = .milliseconds(Int64(memoryTrimInterval * 1000)) }
        if let pushSecret { configuration.pushSecret = pushSecret }
        if let maxCallsPerConnection { configuration.maxCallsPerConnection = maxCallsPerConnection }
        if let maxBackendInFlight { configuration.maxBackendInFlight = maxBackendInFlight }
        if let maxConnections { configuration.maxConnections = maxConnections }
        do {
            if let redis { configuration.redis = try NodeConfiguration.redisEndpoint(redis, key: "redis") }
            if let redisPrefix { configuration.redisPrefix = redisPrefix }
            for (name, flag) in [("location", locationBackend), ("chat", chatBackend), ("notification", notificationBackend)] {
                if let flag { configuration.backends[name] = try NodeConfiguration.endpoint(flag, key: "\(name)-backend") }
            }
            try configuration.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        let logger = try LoggingSystem.bootstrapSwitchboard(level: logLevel ?? environment["SWITCHBOARD_LOG_LEVEL"] ?? "info")
        let node = try await GatewayNode(configuration: configuration, logger: logger)
        logger.info("starting", metadata: [
            "listen": "\(configuration.host):\(configuration.port)", "gateway-api": "\(configuration.host):\(configuration.grpcPort)",
            "redis": "\(configuration.redis?.description ?? "none (single node)")",
        ])
        try await node.run()
        logger.info("stopped")
    }
}
