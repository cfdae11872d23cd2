import NIOCore

/// Watches a client connection from accept until its WebSocket upgrade: the client has
/// `timeout` to send a request and be upgraded, re-armed after each plain HTTP answer (a
/// health probe on a kept-alive connection), or it is dropped; and the connection counts
/// against its source address in `CappedCounts` until it is upgraded or closed.
/// First in the pipeline; removed at the upgrade.
final class HandshakeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let timeout: TimeAmount
    private let pending: CappedCounts
    private let address: String
    private let onTimeout: @Sendable () -> Void
    private var deadline: Scheduled<Void>?
    private var channel: (any Channel)?

    /// `address` has been admitted to `pending` already; it is released when this handler
    /// leaves the pipeline.
    init(timeout: TimeAmount, pending: CappedCounts, address: String, onTimeout: @escaping @Sendable () -> Void) {
        self.timeout = timeout
        self.pending = pending
        self.address = address
        self.onTimeout = onTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channel = context.channel
        rearm()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        channel = nil
        pending.release(address)
    }

    /// Starts the deadline again (after a complete plain HTTP answer). On the event loop.
    func rearm() {
        deadline?.cancel()
        guard let channel else { return }
        let onTimeout = self.onTimeout
        deadline = channel.eventLoop.scheduleTask(in: timeout) {
            onTimeout()
            channel.close(promise: nil)
        }
    }
}
