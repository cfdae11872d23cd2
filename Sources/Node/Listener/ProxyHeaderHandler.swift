import NIOCore

/// First in the pipeline of a connection from a trusted proxy: reads the PROXY protocol
/// header (v1 or v2) within the handshake timeout, hands the client's real address to
/// `proxied` (which builds the rest of the pipeline after this handler, or refuses), then
/// passes on what followed the header and leaves. A connection from a trusted proxy that
/// sends no valid header is closed: behind such a proxy every client would otherwise share
/// its address.
final class ProxyHeaderHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    /// Builds the pipeline for a client at `address` (nil: the proxy's own connection, a
    /// health check); false refuses the connection (it is closed).
    private let proxied: (ChannelHandlerContext, String?) throws -> Bool
    private let onInvalid: (String) -> Void
    private var buffer: ByteBuffer?
    private var deadline: Scheduled<Void>?
    private var done = false

    init(
        timeout: TimeAmount, proxied: @escaping (ChannelHandlerContext, String?) throws -> Bool,
        onInvalid: @escaping (String) -> Void
    ) {
        self.timeout = timeout
        self.proxied = proxied
        self.onInvalid = onInvalid
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return context.fireChannelRead(data) }
        var bytes = unwrapInboundIn(data)
        if buffer == nil { buffer = bytes } else { buffer!.writeBuffer(&bytes) }
        switch ProxyHeader.parse(buffer!) {
        case .incomplete:
            return
        case .invalid(let reason):
            done = true
            onInvalid(reason)
            context.close(promise: nil)
        case .proxied(let source, let length):
            done = true
            deadline?.cancel()
            var rest = buffer!
            buffer = nil
            rest.moveReaderIndex(forwardBy: length)
            do {
                guard try proxied(context, source) else {
                    context.close(promise: nil)
                    return
                }
            } catch {
                context.close(promise: nil)
                return
            }
            if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}
