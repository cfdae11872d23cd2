import Auth
import CoreMetrics
import NIOCore
import NIOHTTP1
import Routing
import SwitchboardProtocol

/// Plain HTTP on the client port: health, readiness, metrics, and the reason a `/ws`
/// request was not upgraded (401 with the token problem, 503 draining or full, 426 not
/// an upgrade), in the same JSON error shape as the WebSocket envelope's.
final class HTTPEndpointHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let node: GatewayNode
    private let handshake: Handshake
    private let watch: HandshakeGuard?
    private var head: HTTPRequestHead?
    /// A request with a body was answered at its head; the rest of it is not read.
    private var refused = false
    /// Whether the client wants the connection kept after this response.
    private var keepAlive = true

    init(node: GatewayNode, handshake: Handshake, watch: HandshakeGuard? = nil) {
        self.node = node
        self.handshake = handshake
        self.watch = watch
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if ClientRequest(head).hasBody {
                // Answered now, without waiting for a body that may never come.
                refused = true
                node.metrics.hit(.requestBody)
                _ = handshake.takeRefusal()
                writeError(.badRequest, code: .badRequest, "no endpoint on this port takes a request body", close: true, context: context)
                return
            }
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        keepAlive = head.isKeepAlive
        let request = ClientRequest(head)
        switch (head.method, request.path) {
        case (.GET, "/healthz"):
            write(.ok, contentType: "text/plain; charset=utf-8", ByteBuffer(string: "ok\n"), context: context)
        case (.GET, "/readyz"):
            if node.registry.isDraining {
                write(.serviceUnavailable, contentType: "text/plain; charset=utf-8", ByteBuffer(string: "draining\n"), context: context)
            } else if !node.bus.isHealthy {
                write(
                    .serviceUnavailable, contentType: "text/plain; charset=utf-8",
                    ByteBuffer(string: "redis unavailable: cross-node delivery is down\n"), context: context
                )
            } else {
                write(.ok, contentType: "text/plain; charset=utf-8", ByteBuffer(string: "ready\n"), context: context)
            }
        case (.GET, "/metrics"):
            node.metrics.ready.record(node.isReady ? 1 : 0)
            node.metrics.redisUp?.record(node.bus.isHealthy ? 1 : 0)
            write(.ok, contentType: "text/plain; version=0.0.4; charset=utf-8", ByteBuffer(string: node.metrics.exposition()), context: context)
        case (.GET, "/ws"):
            refuseWebSocket(request, context: context)
        default:
            writeError(.notFound, code: .notFound, "no such endpoint: \(head.method) \(request.path)", context: context)
        }
    }

    /// Says why `/ws` was not upgraded: the upgrade check's reason, or, for a request
    /// that was no upgrade at all, 503 draining, 401 or 426.
    private func refuseWebSocket(_ request: ClientRequest, context: ChannelHandlerContext) {
        if let refusal = handshake.takeRefusal() {
            writeError(refusal.status, code: refusal.code, refusal.message, close: true, context: context)
            return
        }
        if node.registry.isDraining {
            writeError(.serviceUnavailable, code: .draining, "this node is shutting down; connect to another", context: context)
            return
        }
        let node = self.node
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let promise = context.eventLoop.makePromise(of: AuthenticationError?.self)
        promise.completeWithTask {
            do throws(AuthenticationError) {
                _ = try await node.authenticator.authenticate(request: request)
                return nil
            } catch {
                node.metrics.authFailures.increment()
                return error
            }
        }
        promise.futureResult.whenSuccess { error in
            let (handler, context) = loopBound.value
            if let error {
                handler.writeError(.unauthorized, code: .unauthenticated, "\(error)", context: context)
            } else {
                handler.writeError(.upgradeRequired, code: .upgradeRequired, "GET /ws must be a WebSocket upgrade", context: context)
            }
        }
    }

    private func writeError(
        _ status: HTTPResponseStatus, code: ClientErrorCode, _ message: String, close: Bool = false, context: ChannelHandlerContext
    ) {
        var frame = Switchboard_V1_ServerFrame()
        frame.error = .init(code: code, message: message)
        write(status, contentType: "application/json", FrameCodec.encode(frame, as: .json).data, close: close, context: context)
    }

    private func write(_ status: HTTPResponseStatus, contentType: String, _ body: ByteBuffer, close: Bool = false, context: ChannelHandlerContext) {
        let close = close || !keepAlive
        var headers = HTTPHeaders([("content-type", contentType), ("content-length", "\(body.readableBytes)")])
        if close { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        } else {
            watch?.rearm()  // the next request gets the full handshake timeout
        }
    }
}
