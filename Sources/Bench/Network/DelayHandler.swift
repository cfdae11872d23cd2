package import NIOCore

/// Forwards what its channel reads to `peer`, each chunk held until the delay that held when
/// it arrived has passed, in the order read; the channel's end reaches the peer the same
/// way. A delay that shrinks never lets a later chunk overtake an earlier one: a TCP link
/// made slower, not a reordering one.
package final class DelayHandler: ChannelInboundHandler, RemovableChannelHandler {
    package typealias InboundIn = ByteBuffer

    private enum Item {
        case bytes(ByteBuffer)
        case end
    }

    private let peer: any Channel
    private let delay: LinkDelay
    private var held = CircularBuffer<(due: NIODeadline, item: Item)>()
    private var timer: (due: NIODeadline, task: Scheduled<Void>)?

    package init(peer: any Channel, delay: LinkDelay) {
        self.peer = peer
        self.delay = delay
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        hold(.bytes(unwrapInboundIn(data)), context: context)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        hold(.end, context: context)
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The peer reads only as fast as this side can write what it sends.
    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        _ = peer.setOption(ChannelOptions.autoRead, value: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
    }

    private func hold(_ item: Item, context: ChannelHandlerContext) {
        held.append((context.eventLoop.now + delay.current, item))
        release(context: context)
    }

    /// Forwards every chunk that is due, in order, and sets a timer for the next one.
    private func release(context: ChannelHandlerContext) {
        let now = context.eventLoop.now
        var written = false
        while let first = held.first, first.due <= now {
            held.removeFirst()
            switch first.item {
            case .bytes(let bytes):
                peer.write(bytes, promise: nil)
                written = true
            case .end:
                if written { peer.flush() }
                written = false
                peer.close(promise: nil)
            }
        }
        if written { peer.flush() }
        guard let next = held.first?.due else { return }
        if let timer, timer.due == next { return }
        timer?.task.cancel()
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: next) { [self] in
            timer = nil
            release(context: context)
        }
        timer = (next, task)
    }
}
