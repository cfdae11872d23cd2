import CoreMetrics
import DequeModule
import NIOCore
import NIOWebSocket

/// The write pump and the liveness check of one connection, run on its event loop
/// instead of in tasks: an idle connection then costs a handler and a timer, not two
/// suspended tasks with their stacks (which were most of its memory, see
/// docs/benchmarks.md).
///
/// It sits right after the WebSocket frame decoder. Frames queued from any thread are
/// written while the socket is writable and resumed when it drains again; a frame for an
/// idle connection on its own event loop is written without being queued. Every
/// `pingInterval` a ping goes out; a client that sent nothing at all (pong or other)
/// since the previous ping is closed.
final class ConnectionPump: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let connection: ClientConnection
    private let metrics: NodeMetrics
    private let pingInterval: TimeAmount
    /// Called on the event loop when the queue has ended and everything before the ending
    /// is written: `ClientChannelHandler`, which owns the close handshake, closes.
    private let onEnded: @Sendable (OutboundQueue.Ending) -> Void
    private var heard = true
    private var pingOutstanding = false
    private var ticker: RepeatedTask?
    private var ended = false
    /// Where queued frames are written: past NIO's frame encoder (they are whole frames
    /// already), or this handler's own context when the pipeline has none.
    private var wireWriter: ChannelHandlerContext?
    /// This handler's context while it is in the pipeline (the slot's wake-ups drain here).
    private var context: ChannelHandlerContext?

    init(connection: ClientConnection, metrics: NodeMetrics, pingInterval: TimeAmount, onEnded: @escaping @Sendable (OutboundQueue.Ending) -> Void) {
        self.connection = connection
        self.metrics = metrics
        self.pingInterval = pingInterval
        self.onEnded = onEnded
    }

    func handlerAdded(context: ChannelHandlerContext) {
        wireWriter = (try? context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)) ?? context
        self.context = context
        connection.pumpSlot.pump = self
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: pingInterval, delay: pingInterval) { _ in
            let (pump, context) = loopBound.value
            pump.tick(context: context)
        }
        drain(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ticker?.cancel()
        ticker = nil
        wireWriter = nil
        self.context = nil
        connection.pumpSlot.pump = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        heard = true
        context.fireChannelRead(data)
    }

    /// Writes what is queued (`PumpSlot.wake`); on the event loop.
    func wake() {
        if let context { drain(context: context) }
    }

    /// Writes `frame` at once if nothing waits before it — nothing queued, the queue not
    /// ended, the socket writable — so that a push delivered on this event loop to an idle
    /// connection (most of a big topic's subscribers) needs no queue storage and no
    /// wake-up; false when it must be queued instead. On the event loop.
    func writeIfIdle(_ frame: EncodedFrame) -> Bool {
        guard !ended, let context, let writer = wireWriter, context.channel.isWritable, connection.queue.isIdle else { return false }
        writer.writeAndFlush(NIOAny(frame.wire), promise: nil)
        metrics.messagesOut.increment()
        return true
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { drain(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        ticker?.cancel()
        ticker = nil
        connection.queue.finish(.finished)
        context.fireChannelInactive()
    }

    /// Writes what is queued while the socket takes it, until the queue is empty (the
    /// next enqueue wakes the pump again) or has ended; a full socket resumes at
    /// `channelWritabilityChanged`.
    private func drain(context: ChannelHandlerContext) {
        while !ended, context.channel.isWritable, let taken = connection.queue.take() {
            switch taken {
            case .success(let frames):
                let writer = wireWriter ?? context
                for frame in frames {
                    writer.write(NIOAny(frame.wire), promise: nil)
                }
                writer.flush()
                metrics.messagesOut.increment(by: Int64(frames.count))
            case .failure(let end):
                ended = true
                onEnded(end.ending)
            }
        }
    }

    private func tick(context: ChannelHandlerContext) {
        if pingOutstanding && !heard {
            connection.markClosing(.pingTimeout)
            let close = WebSocketFrame.close(.goingAway, reason: "ping timeout", allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(close), promise: nil)
            context.close(promise: nil)
            return
        }
        heard = false
        pingOutstanding = true
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0))), promise: nil)
    }
}
