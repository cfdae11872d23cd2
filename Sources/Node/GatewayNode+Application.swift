import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NIOHTTP1
import SwitchboardProtocol

/// The node's HTTP side: the WebSocket endpoint and the health and metrics routes.
extension GatewayNode {
    func makeApplication(onListening: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router(context: GatewayRequestContext.self)
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            if self.registry.isDraining { return Self.textResponse(.serviceUnavailable, "draining\n") }
            if !self.bus.isHealthy { return Self.textResponse(.serviceUnavailable, "redis unavailable: cross-node delivery is down\n") }
            return Self.textResponse(.ok, "ready\n")
        }
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: self.metrics.exposition())))
        }
        // A /ws request reaches this router only when it was not upgraded: say why.
        router.get("/ws") { request, _ -> Response in
            if self.registry.isDraining {
                return Self.errorResponse(.serviceUnavailable, code: .draining, "this node is shutting down; connect to another")
            }
            do {
                _ = try await self.authenticator.authenticate(request)
            } catch {
                self.metrics.authFailures.increment()
                return Self.errorResponse(.unauthorized, code: .unauthenticated, "\(error)")
            }
            return Self.errorResponse(.upgradeRequired, code: .upgradeRequired, "GET /ws must be a WebSocket upgrade")
        }

        let webSocketRouter = Router(context: GatewayRequestContext.self)
        webSocketRouter.ws("/ws") { request, context in
            if self.registry.isDraining {
                Self.refuseUpgrade(on: context.channel, .serviceUnavailable, code: .draining, "this node is shutting down; connect to another")
                return .dontUpgrade
            }
            guard self.slots.acquire() else {
                self.metrics.capacityRefusals.increment()
                if self.capacityWarning.shouldLog() {
                    self.logger.warning("connection refused: node full", metadata: ["max-connections": "\(self.maxConnections)"])
                }
                Self.refuseUpgrade(
                    on: context.channel, .serviceUnavailable, code: .busy,
                    "this node holds its maximum of \(self.maxConnections) connections (open-file limit); connect to another"
                )
                return .dontUpgrade
            }
            // Whatever happens from here (a bad token, a failed upgrade, a long session),
            // the slot is free once the socket is.
            context.channel.closeFuture.whenComplete { _ in self.slots.release() }
            let user: String
            do {
                user = try await self.authenticator.authenticate(request)
            } catch {
                self.metrics.authFailures.increment()
                Self.refuseUpgrade(on: context.channel, .unauthorized, code: .unauthenticated, "\(error)")
                return .dontUpgrade
            }
            let (format, negotiated) = WireFormat.negotiate(offered: request.headers[.secWebSocketProtocol])
            context.handshake.accept(.init(user: user, format: format))
            var headers = HTTPFields()
            if let negotiated { headers[.secWebSocketProtocol] = negotiated }
            return .upgrade(headers)
        } onUpgrade: { inbound, outbound, context in
            guard let accepted = context.requestContext.handshake.value else { return }
            let session = self.makeSession(accepted, channel: context.requestContext.channel)
            await session.run(inbound: inbound, outbound: outbound)
        }

        let webSocket = WebSocketServerConfiguration(
            maxFrameSize: configuration.maxFrameBytes,
            // Pings come from each connection's ConnectionPump: no task per connection.
            autoPing: .disabled,
            closeTimeout: configuration.drainTimeout,
            validateUTF8: true
        )
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: webSocketRouter, configuration: .init(ws: webSocket)),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "switchboard"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    private func makeSession(_ accepted: Handshake.Accepted, channel: any Channel) -> ClientSession {
        let id = makeConnectionID()
        var logger = self.logger
        logger[metadataKey: "connection"] = "\(id)"
        logger[metadataKey: "user"] = "\(accepted.user)"
        let queue = OutboundQueue(maxMessages: configuration.queueMessages, maxBytes: configuration.queueBytes) {
            channel.pipeline.fireUserInboundEventTriggered(ConnectionPump.Wake())
        }
        let connection = ClientConnection(
            id: id, user: accepted.user, format: accepted.format, queue: queue, channel: channel, metrics: metrics, logger: logger
        )
        return ClientSession(connection: connection, node: self, logger: logger)
    }

    /// HummingbirdWebSocket answers every refused upgrade with an empty 400. A client
    /// deserves to know why, so the refusal is written here first and the connection
    /// closed in the same event-loop turn, before that 400 can follow.
    static func refuseUpgrade(on channel: any Channel, _ status: HTTPResponse.Status, code: ClientErrorCode, _ message: String) {
        let body = errorBody(code: code, message)
        let headers = HTTPHeaders([
            ("content-type", "application/json"), ("content-length", "\(body.readableBytes)"), ("connection", "close"),
        ])
        let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: status.code), headers: headers)
        channel.eventLoop.execute {
            channel.write(HTTPServerResponsePart.head(head), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
            channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
            channel.close(promise: nil)
        }
    }

    static func textResponse(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The same error shape as the WebSocket envelope's, for HTTP refusals.
    static func errorResponse(_ status: HTTPResponse.Status, code: ClientErrorCode, _ message: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: errorBody(code: code, message)))
    }

    private static func errorBody(code: ClientErrorCode, _ message: String) -> ByteBuffer {
        var frame = Switchboard_V1_ServerFrame()
        frame.error = .init(code: code, message: message)
        return FrameCodec.encode(frame, as: .json).data
    }
}
