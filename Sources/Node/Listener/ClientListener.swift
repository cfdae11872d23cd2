import SwitchboardProtocol
import Auth
import CoreMetrics
import Essentials
import Logging
package import NIOCore
import NIOHTTP1
import Routing
import NIOPosix
import NIOSSL
import NIOWebSocket
import ServiceLifecycle

/// The node's client port on plain SwiftNIO: HTTP/1 for `/healthz`, `/readyz`,
/// `/metrics`, and the WebSocket upgrade of `/ws`, after which a connection is served by
/// channel handlers (`ClientChannelHandler`, `ConnectionPump`) and holds no task while
/// it is idle. (HummingbirdWebSocket runs every connection in a task for its whole life;
/// those tasks' stacks were most of an idle connection's memory — docs/benchmarks.md.)
package struct ClientListener: Service {
    let services: SessionServices
    /// Who may connect now: slots, per-address and per-user caps.
    let admission: Admission
    /// The client port's TLS, when it has a certificate.
    let tls: ServerTLS?
    /// What plain HTTP requests on the port are answered from.
    let endpoints: HTTPEndpointHandler.Context
    let onListening: @Sendable (Int) async -> Void

    func run() async throws {
        let listener = self
        let configuration = services.configuration
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try listener.configure(channel)
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        services.logger.info("listening for clients", metadata: ["listen": "\(configuration.host):\(channel.localAddress?.port ?? 0)"])
        await onListening(channel.localAddress?.port ?? 0)
        // Until shutdown; the drain service has closed the connections by then.
        await channel.serveUntilShutdown()
    }

    /// HTTP/1 with the WebSocket upgrade; the upgrade check authenticates the client
    /// before its socket exists. A refused upgrade goes on as a plain request to
    /// `HTTPEndpointHandler`, which answers with the reason.
    package func configure(_ channel: any Channel) throws {
        let peer = channel.remoteAddress.flatMap { IPAddress($0) }
        guard let peer, services.configuration.trustedProxies.contains(where: { $0.contains(peer) }) else {
            try configure(channel, source: peer)
            return
        }
        // A trusted proxy: the client's address comes in the PROXY header, before TLS.
        let metrics = services.metrics
        let logger = services.logger
        let warning = admission.capacityWarning
        let header = ProxyHeaderHandler(
            timeout: TimeAmount(services.configuration.handshakeTimeout),
            proxied: { _, source in try self.configure(channel, source: source.flatMap { IPAddress($0) } ?? peer) },
            onInvalid: { reason in
                metrics.hit(.proxyHeader)
                if warning.shouldLog() {
                    logger.warning("connection from a trusted proxy refused: \(reason)", metadata: ["proxy": "\(peer.limitKey)"])
                }
            }
        )
        try channel.pipeline.syncOperations.addHandler(header)
    }

    /// The pipeline for a client at `source` (its own address, or the one its proxy named);
    /// false when the source's cap refused it (the channel is closed).
    @discardableResult
    func configure(_ channel: any Channel, source: IPAddress?) throws -> Bool {
        // Before anything is read: the source's cap of connections not yet upgraded.
        let address = source?.limitKey ?? "unknown"
        guard admission.pending.admit(address) else {
            services.metrics.hit(.pendingPerAddress)
            if admission.capacityWarning.shouldLog() {
                services.logger.warning(
                    "connection refused: too many unfinished handshakes from one address",
                    metadata: ["address": "\(address)", "max-pending-per-address": "\(admission.pending.capacityPerKey)"]
                )
            }
            channel.close(promise: nil)
            return false
        }
        // TLS first: a plaintext client never reaches HTTP (its bytes fail the handshake).
        if let tls = tls {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
        }
        let metrics = services.metrics
        let watch = HandshakeGuard(
            timeout: TimeAmount(services.configuration.handshakeTimeout), pending: admission.pending, address: address
        ) { metrics.hit(.handshakeTimeout) }
        try channel.pipeline.syncOperations.addHandler(watch)
        let handshake = Handshake()
        let endpoints = HTTPEndpointHandler(self.endpoints, handshake: handshake, watch: watch)
        // Removed at the upgrade, on this channel's loop.
        let removable = NIOLoopBound((endpoints, watch), eventLoop: channel.eventLoop)
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: services.configuration.maxFrameBytes,
            automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                promise.completeWithTask { await self.admit(head, channel: channel, handshake: handshake) }
                return promise.futureResult
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    guard let accepted = handshake.value else { throw ChannelError.inappropriateOperationForState }
                    let operations = channel.pipeline.syncOperations
                    let (endpoints, watch) = removable.value
                    operations.removeHandler(endpoints, promise: nil)
                    operations.removeHandler(watch, promise: nil)  // upgraded: no deadline, no longer pending
                    try operations.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1024,
                            maxAccumulatedFrameSize: services.configuration.maxFrameBytes
                        )
                    )
                    try operations.addHandler(ClientChannelHandler(services: services, accepted: accepted, channel: channel))
                }
            }
        )
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }), withErrorHandling: true
        )
        try channel.pipeline.syncOperations.addHandler(endpoints)
        return true
    }

    /// Decides an upgrade: no request body, not draining, a valid token, then room for
    /// the user and a free connection slot (so that clients without a token never take one). Nil refuses, with
    /// the reason in `handshake`; the request then reaches `HTTPEndpointHandler`, which
    /// answers with it.
    private func admit(_ head: HTTPRequestHead, channel: any Channel, handshake: Handshake) async -> HTTPHeaders? {
        let request = ClientRequest(head)
        guard request.path == "/ws" else { return nil }  // not ours to upgrade: 404
        guard !request.hasBody else {
            handshake.refuse(.badRequest, .badRequest, "a WebSocket upgrade request carries no body")
            return nil
        }
        guard !services.registry.isDraining else {
            handshake.refuse(.serviceUnavailable, .draining, "this node is shutting down; connect to another")
            return nil
        }
        guard services.configuration.dev || request.originAllowed(services.configuration.allowedOrigins) else {
            services.metrics.hit(.origin)
            handshake.refuse(
                .forbidden, .originNotAllowed,
                "pages from \(request.headers.first(name: "origin")?.prefix(128) ?? "") may not connect here (the node's allowed-origins)"
            )
            return nil
        }
        var resumeFrom: InboxPosition?
        if let since = request.parameter("since") {
            guard let offset = UInt64(since) else {
                handshake.refuse(.badRequest, .badRequest, "since must be an inbox offset (a whole number), got '\(since.prefix(32))'")
                return nil
            }
            resumeFrom = InboxPosition(epoch: request.parameter("epoch") ?? "", offset: offset)
        }
        let token: VerifiedToken
        do {
            token = try await services.authentication.current.verify(request: request)
        } catch {
            services.metrics.authFailures.increment()
            handshake.refuse(.unauthorized, .unauthenticated, "\(error)")
            return nil
        }
        let user = token.user
        guard admission.connectRates.admit(user) else {
            services.metrics.hit(.userConnects)
            handshake.refuse(
                .tooManyRequests, .tooManyConnects,
                "this user connected more than \(services.configuration.userConnectsPerMinute) times in a minute; wait a few seconds before retrying"
            )
            return nil
        }
        guard admission.userConnections.admit(user) else {
            services.metrics.hit(.userConnections)
            handshake.refuse(
                .tooManyRequests, .tooManyConnections,
                "this user already holds \(admission.userConnections.capacityPerKey) connections on this node; close one first"
            )
            return nil
        }
        guard admission.slots.acquire() else {
            admission.userConnections.release(user)
            services.metrics.capacityRefusals.increment()
            if admission.capacityWarning.shouldLog() {
                services.logger.warning("connection refused: node full", metadata: ["max-connections": "\(admission.maxConnections)"])
            }
            handshake.refuse(
                .serviceUnavailable, .busy,
                "this node holds its maximum of \(admission.maxConnections) connections (open-file limit); connect to another"
            )
            return nil
        }
        // Whatever happens from here (a failed upgrade, a long session), the slot is free
        // once the socket is.
        let admission = self.admission
        channel.closeFuture.whenComplete { _ in
            admission.slots.release()
            admission.userConnections.release(user)
        }
        let (format, negotiated) = WireFormat.negotiate(offered: head.headers.first(name: "sec-websocket-protocol"))
        handshake.accept(.init(user: user, format: format, isAdmin: token.isAdmin, resumeFrom: resumeFrom, tokenExpiresAtMs: token.expiresAtMs, topics: TopicGrants(token.topics)))
        var headers = HTTPHeaders()
        if let negotiated { headers.add(name: "Sec-WebSocket-Protocol", value: negotiated) }
        return headers
    }
}
