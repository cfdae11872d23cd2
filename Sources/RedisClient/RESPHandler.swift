import DequeModule
import NIOCore

/// The pipeline end of a Redis connection: writes commands, parses replies with hiredis'
/// reader, and completes the waiting promises in order. A reply no one waits for (a
/// subscriber's messages and acknowledgements) goes to `onPush`.
///
/// A command that waits longer than `commandTimeout` for its reply means Redis hangs:
/// the connection is closed, which fails everything waiting on it. The verdict needs two
/// checks in a row that find the same command overdue, with the socket read in between:
/// a loop that was itself descheduled (a saturated machine) reads the replies that
/// arrived meanwhile before it blames Redis.
final class RESPHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    /// A formatted command and, unless it is fire-and-forget, what to call with its reply
    /// (on the connection's loop).
    struct Request {
        let command: RedisCommand
        let reply: RedisConnection.Completion?
    }

    private let reader = RESPReader()
    private var waiting = Deque<(reply: RedisConnection.Completion, since: NIODeadline)>()
    private let onPush: (RedisReply) -> Void
    private let commandTimeout: TimeAmount
    private var watchdog: RepeatedTask?
    private var failure: RedisError?
    /// Replies matched so far, and its value when a check last found the oldest command overdue.
    private var answered = 0
    private var overdueAt: Int?
    /// The most commands waiting at once since the queue was last empty: after a burst
    /// (a thousand clients connecting) the queue's storage is given back.
    private var peak = 0

    init(commandTimeout: TimeAmount, onPush: @escaping (RedisReply) -> Void = { _ in }) {
        self.commandTimeout = commandTimeout
        self.onPush = onPush
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let period = TimeAmount.nanoseconds(max(commandTimeout.nanoseconds / 4, 1_000_000))
        watchdog = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            let (handler, context) = loopBound.value
            handler.checkStalled(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watchdog?.cancel()
        failAll(failure ?? .unavailable("connection closed"))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.reply?(.failure(failure))
            promise?.fail(failure)
            return
        }
        if let reply = request.reply {
            waiting.append((reply, context.eventLoop.now))
            peak = max(peak, waiting.count)
        }
        context.write(wrapOutboundOut(request.command.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try reader.feed(unwrapInboundIn(data))
            while let reply = try reader.next() {
                if let next = waiting.popFirst() {
                    answered &+= 1
                    next.reply(.success(reply))
                    if case .error(let message) = reply, message.hasPrefix("READONLY") {
                        // A replica now (demoted in a failover): reconnecting finds the primary.
                        fail(context: context, .unavailable("redis became a replica: \(message)"))
                        return
                    }
                } else {
                    onPush(reply)
                }
            }
            if waiting.isEmpty, peak > 1024 {
                waiting = Deque()
                peak = 0
            }
        } catch {
            fail(context: context, error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(failure ?? .unavailable("connection lost"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, .unavailable("\(error)"))
    }

    private func checkStalled(context: ChannelHandlerContext) {
        guard let oldest = waiting.first, context.eventLoop.now - oldest.since > commandTimeout else {
            overdueAt = nil
            return
        }
        guard overdueAt == answered else {
            overdueAt = answered
            return
        }
        fail(context: context, .unavailable("no reply within \(commandTimeout.nanoseconds / 1_000_000) ms"))
    }

    private func fail(context: ChannelHandlerContext, _ error: RedisError) {
        if failure == nil { failure = error }
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        while let next = waiting.popFirst() { next.reply(.failure(error)) }
    }
}
