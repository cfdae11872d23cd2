import SwitchboardProtocol
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
@testable import Node
import Presence
import BackendCalls
import Routing
import NodeTestSupport
import TestSupport

/// What a client session uses, built without a node: in-process presence (or
/// `presence`) and relay, no backends, for unit tests that drive handlers and services on
/// virtual time.
func makeTestServices(
    presence: (any PresenceDirectory)? = nil, _ configure: (inout NodeConfiguration) -> Void = { _ in }
) async throws -> SessionServices {
    var configuration = NodeConfiguration(
        nodeID: "unit", jwtSecret: String(repeating: "j", count: 32), pushSecret: String(repeating: "p", count: 16)
    )
    configure(&configuration)
    try configuration.validate()
    var logger = Logger(label: "unit")
    logger.logLevel = .error
    let metrics = NodeMetrics(nodeID: configuration.nodeID, clustered: false)
    return SessionServices(
        configuration: configuration, registry: ConnectionRegistry(), presence: presence ?? InProcessPresenceDirectory(),
        bus: InProcessRelayBus(inbox: configuration.inbox), userTopics: InProcessUserTopicStore(ttl: configuration.subscriptionTTL),
        backends: try BackendPool(
            endpoints: [:], tls: nil, secret: configuration.effectiveBackendSecret, maxInFlight: 1,
            breaker: CircuitBreaker.Policy(consecutiveFailures: 1, openFor: .seconds(1)), metrics: metrics, logger: logger
        ),
        routes: .standard, authentication: CurrentAuthenticator(try await GatewayNode.authenticator(configuration), logger: logger),
        metrics: metrics, clusterStats: ClusterStats(store: nil), logger: logger
    )
}

/// What the HTTP endpoints answer from, for a client port of `services`.
func testEndpoints(_ services: SessionServices) -> HTTPEndpointHandler.Context {
    HTTPEndpointHandler.Context(
        metrics: services.metrics, authentication: services.authentication, readiness: services.readiness,
        metricsOnAdminPort: services.configuration.adminPort != nil, dev: services.configuration.dev, demo: services.configuration.demo
    )
}

/// A frame as a client puts it on the wire: masked, then encoded.
func clientBytes(_ opcode: WebSocketOpcode, _ payload: ByteBuffer = ByteBuffer()) throws -> ByteBuffer {
    let encoder = EmbeddedChannel(handler: WebSocketFrameEncoder())
    try encoder.writeOutbound(WebSocketFrame(fin: true, opcode: opcode, maskKey: WebSocketMaskingKey([7, 1, 9, 3]), data: payload))
    var bytes = ByteBuffer()
    while var part = try encoder.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&part) }
    return bytes
}

/// A close frame's payload: the code, then the reason.
func closePayload(_ code: WebSocketErrorCode, reason: String = "") -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.write(webSocketErrorCode: code)
    buffer.writeString(reason)
    return buffer
}

/// A client connection of `user` on `services` as the upgrade leaves it — frame decoder, then
/// `ClientChannelHandler` — on `NIOAsyncTestingChannel` (thread-safe: the session's tasks
/// write from the concurrency pool) with virtual time; returned after the welcome.
/// `joiningFragments` adds the upgrade's fragment joiner, as `ClientListener` does.
func openTestConnection(
    _ services: SessionServices, user: String = "alice", maxFrameSize: Int = 1024, tokenExpiresAtMs: Int64 = .max, joiningFragments: Bool = false
) async throws -> (NIOAsyncTestingChannel, ClientConnection) {
    let channel = NIOAsyncTestingChannel()
    try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9))
    try await channel.pipeline.addHandler(ServerFrameReader())
    try await channel.pipeline.addHandler(WebSocketFrameEncoder())
    try await channel.pipeline.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)))
    if joiningFragments {
        try await channel.pipeline.addHandler(
            NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1024, maxAccumulatedFrameSize: maxFrameSize)
        )
    }
    try await channel.pipeline.addHandler(
        ClientChannelHandler(
            services: services, accepted: Handshake.Accepted(user: user, format: .json, tokenExpiresAtMs: tokenExpiresAtMs), channel: channel
        )
    )
    let welcome = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
    guard String(buffer: welcome.data).contains(#""welcome""#) else { throw TestFailure("expected the welcome first") }
    guard let connection = services.registry.connections(of: user).first else { throw TestFailure("\(user) is not in the map") }
    return (channel, connection)
}
