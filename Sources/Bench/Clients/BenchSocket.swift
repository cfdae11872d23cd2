package import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

#if canImport(Glibc)
import Glibc
#endif

/// One generator connection on plain SwiftNIO. Unlike HummingbirdWSClient it can bind a
/// source address (so more connections than one address's ephemeral ports fit), and it
/// hands frames to a callback on its event loop instead of a task per connection, so a
/// generator process can hold tens of thousands of them cheaply.
package final class BenchSocket: Sendable {
    /// What the node sent, on the connection's event loop.
    package enum Event: Sendable {
        case text(ByteBuffer)
        case binary(ByteBuffer)
        case closed(code: Int?)
    }

    let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    package func send(text: String) {
        send(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text)))
    }

    package func send(binary: ByteBuffer) {
        send(WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: binary))
    }

    private func send(_ frame: WebSocketFrame) {
        channel.writeAndFlush(frame, promise: nil)
    }

    /// Sends a close frame and waits (briefly) for the node to close the TCP connection.
    package func close() async {
        var data = channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: .normalClosure)
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data), promise: nil)
        let closed = channel.closeFuture
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(1)) { [channel] in channel.close(promise: nil) }
        try? await closed.get()
        timeout.cancel()
    }

    package var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Connects, authenticates with `token` and returns once the node's welcome frame has
    /// arrived: the connection is then reachable from every node. Frames after the welcome
    /// go to `onEvent`.
    ///
    /// Callers that connect many at once let the first complete alone: once, in a
    /// fresh-clone run, a generator process crashed in the Swift runtime
    /// (`swift_conformsToProtocol` reading null metadata) while its first connects set up
    /// the upgrade pipeline's generic types on several event loops at the same time.
    package static func connect(
        to endpoint: BenchEndpoint,
        token: String,
        format: BenchFormat,
        source: IPAddresses.Address? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onEvent: @escaping @Sendable (Event) -> Void
    ) async throws -> BenchSocket {
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
        if let source {
            // Let connect() choose the port per destination, so one source address serves
            // its whole ephemeral range towards every node.
            bootstrap = bootstrap
                .channelOption(ChannelOptions.ipOption(.init(rawValue: source.bindAddressNoPort)), value: 1)
                .bind(to: source.socketAddress)
        }
        let welcome: EventLoopFuture<BenchSocket>
        do {
            welcome = try await bootstrap.connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let promise = channel.eventLoop.makePromise(of: BenchSocket.self)
                    let upgrader = NIOTypedWebSocketClientUpgrader<Void>(maxFrameSize: 1 << 20) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandlers(
                                NIOWebSocketFrameAggregator(
                                    minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 256, maxAccumulatedFrameSize: 1 << 20
                                ),
                                BenchFrameHandler(socket: BenchSocket(channel: channel), welcome: promise, onEvent: onEvent)
                            )
                        }
                    }
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "\(endpoint.host):\(endpoint.port)")
                    headers.add(name: "Authorization", value: "Bearer \(token)")
                    headers.add(name: "Sec-WebSocket-Protocol", value: format.subprotocol)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<Void>(
                        upgradeRequestHead: HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.path, headers: headers),
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            // The node says why in the response (status and JSON error): read it.
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(RefusalReader(endpoint: endpoint, welcome: promise))
                            }
                        }
                    )
                    // The welcome frame often rides in the same segment as the 101: keep those bytes.
                    var pipeline = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: configuration)
                    pipeline.leftOverBytesStrategy = .forwardBytes
                    let upgraded = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: pipeline)
                    upgraded.cascadeFailure(to: promise)
                    channel.closeFuture.whenComplete { _ in
                        promise.fail(BenchError("\(endpoint) closed the connection before its welcome frame"))
                    }
                    return promise.futureResult
                }
            }
        } catch let error as IOError {
            throw BenchError.explaining(error, connectingTo: endpoint, from: source)
        } catch let error as NIOConnectionError {
            guard let cause = error.connectionErrors.first?.error as? IOError else { throw error }
            throw BenchError.explaining(cause, connectingTo: endpoint, from: source)
        }
        return try await welcome.get()
    }
}

/// Passes frames to the scenario, answers pings, and completes the connect at the welcome.
private final class BenchFrameHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let socket: BenchSocket
    private var welcome: EventLoopPromise<BenchSocket>?
    private let onEvent: @Sendable (BenchSocket.Event) -> Void
    private var closeCode: Int?

    init(socket: BenchSocket, welcome: EventLoopPromise<BenchSocket>, onEvent: @escaping @Sendable (BenchSocket.Event) -> Void) {
        self.socket = socket
        self.welcome = welcome
        self.onEvent = onEvent
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            if let welcome {
                self.welcome = nil
                welcome.succeed(socket)
                return
            }
            onEvent(frame.opcode == .text ? .text(frame.unmaskedData) : .binary(frame.unmaskedData))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            var data = frame.unmaskedData
            closeCode = data.readInteger(as: UInt16.self).map(Int.init)
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        welcome?.fail(BenchError("the node closed the connection before its welcome frame (close code \(closeCode.map(String.init) ?? "none"))"))
        welcome = nil
        onEvent(.closed(code: closeCode))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Reads the HTTP response of a refused upgrade and fails the connect with it, e.g.
/// "HTTP 503: {"error":{"code":"busy",…}}".
private final class RefusalReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let endpoint: BenchEndpoint
    private let welcome: EventLoopPromise<BenchSocket>
    private var status: HTTPResponseStatus?
    private var body = ""

    init(endpoint: BenchEndpoint, welcome: EventLoopPromise<BenchSocket>) {
        self.endpoint = endpoint
        self.welcome = welcome
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
        case .body(let buffer):
            if body.utf8.count < 1024 { body += String(buffer: buffer) }
        case .end:
            fail(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context: context)
        context.fireChannelInactive()
    }

    private func fail(context: ChannelHandlerContext) {
        let status = status.map { "HTTP \($0.code)" } ?? "no HTTP response"
        welcome.fail(BenchError("\(endpoint) refused the WebSocket upgrade: \(status) \(body)"))
        context.close(promise: nil)
    }
}
