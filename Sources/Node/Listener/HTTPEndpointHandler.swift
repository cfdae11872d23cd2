import Auth
import CoreMetrics
import Identity
import NIOCore
import NIOHTTP1
import Routing
import Essentials
import SwitchboardProtocol
import WebAssets

/// Plain HTTP on the client port: health, readiness, metrics (unless the node has an
/// admin port), the demo and dashboard pages, and the reason a `/ws` request was not
/// upgraded (401 with the token problem, 503 draining or full, 426 not an upgrade), in the
/// same JSON error shape as the WebSocket envelope's. On the admin port: health,
/// readiness and metrics only.
final class HTTPEndpointHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Which port the handler serves.
    enum Port {
        case client, admin
    }

    /// What the endpoints answer from, built once per listener.
    struct Context: Sendable {
        let metrics: NodeMetrics
        let authentication: CurrentAuthenticator
        let readiness: Readiness
        /// `/metrics` is on the admin port, not the client port.
        let metricsOnAdminPort: Bool
        /// `--dev`: the demo, and tokens minted for it.
        let dev: Bool
        /// `--demo`: the demo page without minted tokens.
        let demo: Bool
    }

    private let state: Context
    private let port: Port
    private let handshake: Handshake
    private let watch: HandshakeGuard?
    private var head: HTTPRequestHead?
    /// A request with a body was answered at its head; the rest of it is not read.
    private var refused = false
    /// Whether the client wants the connection kept after this response.
    private var keepAlive = true

    init(_ context: Context, handshake: Handshake, watch: HandshakeGuard? = nil, port: Port = .client) {
        self.state = context
        self.port = port
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
                state.metrics.hit(.requestBody)
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
        case (.GET, "/metrics") where port == .client && state.metricsOnAdminPort:
            writeError(.notFound, code: .notFound, "metrics are served on the node's admin port", context: context)
        case (.GET, let path) where port == .admin && !["/healthz", "/readyz", "/metrics"].contains(path):
            writeError(.notFound, code: .notFound, "the admin port serves /healthz, /readyz and /metrics", context: context)
        case (.GET, "/healthz"):
            write(.ok, contentType: "text/plain; charset=utf-8", ByteBuffer(string: "ok\n"), context: context)
        case (.GET, "/readyz"):
            if state.readiness.isDraining {
                write(.serviceUnavailable, contentType: "text/plain; charset=utf-8", ByteBuffer(string: "draining\n"), context: context)
            } else if !state.readiness.relayIsHealthy {
                write(
                    .serviceUnavailable, contentType: "text/plain; charset=utf-8",
                    ByteBuffer(string: "redis unavailable: cross-node delivery is down\n"), context: context
                )
            } else {
                write(.ok, contentType: "text/plain; charset=utf-8", ByteBuffer(string: "ready\n"), context: context)
            }
        case (.GET, "/metrics"):
            state.metrics.ready.record(state.readiness.isReady ? 1 : 0)
            state.metrics.redisUp?.record(state.readiness.relayIsHealthy ? 1 : 0)
            state.metrics.topics.record(state.readiness.registry.topicCount)
            state.metrics.topicSubscriptions.record(state.readiness.registry.subscriptionCount)
            write(.ok, contentType: "text/plain; version=0.0.4; charset=utf-8", ByteBuffer(string: state.metrics.exposition()), context: context)
        case (.GET, "/ws"):
            refuseWebSocket(request, context: context)
        case (.GET, "/dashboard"):
            write(.ok, WebAsset.dashboardPage, request: head, context: context)
        case (.GET, let path) where path.hasPrefix("/assets/"):
            if let asset = WebAsset.named(String(path.dropFirst("/assets/".count))) {
                write(.ok, asset, request: head, context: context)
            } else {
                writeError(.notFound, code: .notFound, "no such file: \(path)", context: context)
            }
        case (.GET, "/demo"), (.GET, "/demo/"):
            guard state.dev || state.demo else {
                writeError(.notFound, code: .notFound, "the demo is served only by a node started with --dev true or --demo true", context: context)
                return
            }
            write(.ok, WebAsset.demoPage, request: head, context: context)
        case (.GET, "/demo/token"):
            guard state.dev else {
                writeError(.notFound, code: .notFound, "tokens are minted only by a node started with --dev true", context: context)
                return
            }
            mintDemoToken(for: request.parameter("user") ?? "", context: context)
        default:
            writeError(.notFound, code: .notFound, "no such endpoint: \(head.method) \(request.path)", context: context)
        }
    }

    /// Says why `/ws` was not upgraded: the upgrade check's reason, or, for a request
    /// that was no upgrade at all, 503 draining, 401 or 426.
    /// Readable from any origin: a page served elsewhere must learn that its token was
    /// refused (401) or the node is draining (503), or a fixed token would retry for ever.
    /// The body holds only the refusal; nothing is readable with credentials.
    private func refuseWebSocket(_ request: ClientRequest, context: ChannelHandlerContext) {
        let cors = [("access-control-allow-origin", "*")]
        if let refusal = handshake.takeRefusal() {
            writeError(refusal.status, code: refusal.code, refusal.message, close: true, headers: cors, context: context)
            return
        }
        if state.readiness.isDraining {
            writeError(.serviceUnavailable, code: .draining, "this node is shutting down; connect to another", headers: cors, context: context)
            return
        }
        let state = self.state
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let promise = context.eventLoop.makePromise(of: AuthenticationError?.self)
        promise.completeWithTask {
            do throws(AuthenticationError) {
                _ = try await state.authentication.current.verify(request: request)
                return nil
            } catch {
                state.metrics.authFailures.increment()
                return error
            }
        }
        promise.futureResult.whenSuccess { error in
            let (handler, context) = loopBound.value
            if let error {
                handler.writeError(.unauthorized, code: .unauthenticated, "\(error)", headers: cors, context: context)
            } else {
                handler.writeError(.upgradeRequired, code: .upgradeRequired, "GET /ws must be a WebSocket upgrade", headers: cors, context: context)
            }
        }
    }

    /// A `--dev` node signs a token for any valid user name: the demo's sign-in.
    private func mintDemoToken(for user: String, context: ChannelHandlerContext) {
        if let problem = UserID.problem(user) {
            writeError(.badRequest, code: .invalidArgument, "user: \(problem)", context: context)
            return
        }
        let authenticator = state.authentication.current
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let promise = context.eventLoop.makePromise(of: String?.self)
        promise.completeWithTask { try? await authenticator.issueDevelopment(user: user, validFor: .seconds(12 * 3600)) }
        promise.futureResult.whenSuccess { token in
            let (handler, context) = loopBound.value
            guard let token else {
                handler.writeError(.internalServerError, code: .internal, "the token could not be signed", context: context)
                return
            }
            var body = ByteBuffer()
            body.writeStaticString(#"{"user":"#)
            body.writeJSONString(user)
            body.writeStaticString(#","token":"#)
            body.writeJSONString(token)
            body.writeStaticString("}")
            handler.write(.ok, contentType: "application/json", body, context: context)
        }
    }

    /// A page or script: revalidated on every load (`ETag`: a node upgraded in place serves
    /// the new files at once), answered 304 when unchanged, and fenced by the asset's
    /// security headers (the dashboard's page holds an admin token).
    private func write(_ status: HTTPResponseStatus, _ asset: WebAsset, request: HTTPRequestHead, context: ChannelHandlerContext) {
        let headers = asset.securityHeaders + [("cache-control", "no-cache"), ("etag", asset.etag)]
        if request.headers["if-none-match"].contains(where: { $0.split(separator: ",").contains { $0.filter { !$0.isWhitespace } == asset.etag } }) {
            write(.notModified, contentType: asset.contentType, ByteBuffer(), headers: headers, context: context)
            return
        }
        write(status, contentType: asset.contentType, ByteBuffer(bytes: asset.bytes), headers: headers, context: context)
    }

    private func writeError(
        _ status: HTTPResponseStatus, code: ErrorCode, _ message: String, close: Bool = false,
        headers: [(String, String)] = [], context: ChannelHandlerContext
    ) {
        var frame = Switchboard_V1_ServerFrame()
        frame.error = .init(code: code, message: message)
        write(status, contentType: "application/json", FrameCodec.encode(frame, as: .json).data, close: close, headers: headers, context: context)
    }

    private func write(
        _ status: HTTPResponseStatus, contentType: String, _ body: ByteBuffer, close: Bool = false,
        headers extra: [(String, String)] = [], context: ChannelHandlerContext
    ) {
        let close = close || !keepAlive
        var headers = HTTPHeaders([("content-type", contentType), ("content-length", "\(body.readableBytes)"), ("x-content-type-options", "nosniff")])
        headers.add(contentsOf: extra)
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
