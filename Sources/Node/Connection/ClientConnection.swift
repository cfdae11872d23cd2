import Identity
import SwitchboardProtocol
import CoreMetrics
import Logging
import NIOCore
import NIOWebSocket
import Presence
import Routing
import Synchronization

/// One client socket as the rest of the node sees it: who it is and where its
/// frames go. The socket itself is served on its event loop by `ClientChannelHandler`
/// (reads, close handshake) and `ConnectionPump` (writes, liveness).
final class ClientConnection: Sendable {
    let id: ConnectionID
    let user: String
    let format: WireFormat
    let queue: OutboundQueue
    /// Backend calls in flight on this connection.
    let calls = InFlightCounter()
    /// Frames still to be answered; a client's close waits for them.
    let answers: PendingAnswers
    /// Pushes behind the welcome; durable ones in inbox order, none twice.
    let inbox: InboxCursor
    /// When the token runs out; the connection is closed then (4001) unless refreshed.
    let tokenExpiry: TokenExpiry
    /// The current token's admin claim (a refreshed token's replaces the first's).
    var isAdmin: Bool {
        get { adminClaim.load(ordering: .relaxed) }
        set { adminClaim.store(newValue, ordering: .relaxed) }
    }
    private let adminClaim = Atomic<Bool>(false)
    /// The topics it is subscribed to, and those its token's claim grants.
    let topics = ConnectionTopics()
    /// Where a backend's subscribe or unsubscribe goes: the session's work, in order with
    /// the client's frames and its close (set by `ClientChannelHandler`).
    private let serverSubscriptions = Mutex<(@Sendable (String, Bool) -> Void)?>(nil)

    func onServerSubscription(_ handle: @escaping @Sendable (_ topic: String, _ subscribe: Bool) -> Void) {
        serverSubscriptions.withLock { $0 = handle }
    }

    /// A backend subscribed this connection to `topic`, or ended that.
    func serverSubscription(_ topic: String, subscribe: Bool) {
        serverSubscriptions.withLock { $0 }?(topic, subscribe)
    }
    let channel: any Channel
    /// The channel's event loop, kept so delivery need not ask the channel each time.
    let eventLoop: any EventLoop
    /// The write pump, reached directly (frames, wake-ups).
    let pumpSlot: PumpSlot
    private let metrics: NodeMetrics
    private let logger: Logger
    private let closeReason = Mutex<CloseReason?>(nil)

    /// `pumpSlot` is the one `queue` wakes.
    init(
        id: ConnectionID, user: String, format: WireFormat, queue: OutboundQueue, pumpSlot: PumpSlot, channel: any Channel,
        metrics: NodeMetrics, logger: Logger
    ) {
        self.id = id
        self.user = user
        self.format = format
        self.queue = queue
        self.answers = PendingAnswers(queue: queue)
        self.inbox = InboxCursor(maxWaiting: queue.maxMessages)
        self.tokenExpiry = TokenExpiry(queue: queue, eventLoop: channel.eventLoop)
        self.channel = channel
        self.eventLoop = pumpSlot.eventLoop
        self.pumpSlot = pumpSlot
        self.metrics = metrics
        self.logger = logger
    }

    /// Queues a frame; never waits. Passing a queue limit closes the connection. On the
    /// connection's event loop, a frame with nothing queued before it is written at once.
    @discardableResult
    func enqueue(_ frame: EncodedFrame, sheddable: Bool = false) -> Bool {
        if eventLoop.inEventLoop, let pump = pumpSlot.pump, pump.writeIfIdle(frame) { return true }
        return counted(queue.enqueue(frame, sheddable: sheddable))
    }

    private func counted(_ result: OutboundQueue.EnqueueResult) -> Bool {
        switch result {
        case .queued:
            return true
        case .shed:
            metrics.hit(.receiverQueue)
            return false
        case .overflow(let dropped):
            metrics.queueDrops.increment(by: Int64(dropped))
            closeAsSlowConsumer()
            return false
        case .ended:
            return false
        }
    }

    /// Queues a push that is not kept in the inbox, behind the welcome; false when it was
    /// shed or did not fit.
    func enqueueLive(_ frame: EncodedFrame, sheddable: Bool) -> Bool {
        var queued = true
        let decision = inbox.offer(live: frame, send: { queued = enqueue($0, sheddable: sheddable) })
        return outcome(decision, queued: queued)
    }

    /// `enqueueLive` without waking the pump; `wake` says whether the caller must (with
    /// `wakePump`, on the connection's event loop).
    func enqueueLiveWithoutWaking(_ frame: EncodedFrame, sheddable: Bool) -> (queued: Bool, wake: Bool) {
        var queued = true
        var wake = false
        let decision = inbox.offer(live: frame, send: { frame in
            let result: OutboundQueue.EnqueueResult
            (result, wake) = queue.enqueueWithoutWaking(frame, sheddable: sheddable)
            queued = counted(result)
        })
        return (outcome(decision, queued: queued), wake)
    }

    /// Wakes the write pump; on the connection's event loop.
    func wakePump() {
        pumpSlot.pump?.wake()
    }

    /// Queues a durable push through the inbox cursor; true unless it was a duplicate or
    /// did not fit.
    func enqueueDurable(_ frame: EncodedFrame, at position: InboxPosition, sheddable: Bool) -> Bool {
        var queued = true
        let decision = inbox.offer(frame, at: position, send: { queued = enqueue($0, sheddable: sheddable) })
        return outcome(decision, queued: queued)
    }

    /// Queues a publish kept in `topic`'s history through the topic's cursor (held until the
    /// subscribe's answer and replay, none twice), then behind the welcome; a topic without
    /// a cursor (a backend's subscription) takes it live.
    func enqueueTopic(_ frame: EncodedFrame, _ topic: String, at position: InboxPosition, sheddable: Bool) -> Bool {
        guard let cursor = topics.cursor(for: topic) else { return enqueueLive(frame, sheddable: sheddable) }
        var queued = true
        let decision = cursor.offer(frame, at: position, send: { queued = enqueueLive($0, sheddable: sheddable) })
        return outcome(decision, queued: queued)
    }

    /// Whether the cursor's decision delivered (or holds) the push; too many held for the
    /// welcome is a slow consumer.
    private func outcome(_ decision: InboxCursor.Decision, queued: Bool) -> Bool {
        switch decision {
        case .send: return queued
        case .held: return true
        case .duplicate: return false
        case .overflow:
            metrics.queueDrops.increment()
            closeAsSlowConsumer()
            return false
        }
    }

    /// Records why the connection ends; the first reason wins.
    func markClosing(_ reason: CloseReason) {
        closeReason.withLock { if $0 == nil { $0 = reason } }
    }

    var reason: CloseReason { closeReason.withLock { $0 ?? .client } }

    /// The write pump may be stuck behind a client that does not read, so the close
    /// frame goes straight to the channel and the socket is dropped at once: a client
    /// that stopped reading may only see the TCP close.
    private func closeAsSlowConsumer() {
        markClosing(.slowConsumer)
        logger.warning("closing slow consumer", metadata: ["queue.limit.messages": "\(queue.maxMessages)", "queue.limit.bytes": "\(queue.maxBytes)"])
        let frame = WebSocketFrame.close(CloseReason.slowConsumerCode, reason: "slow consumer", allocator: channel.allocator)
        let channel = self.channel
        channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
        // If the socket cannot take even the close frame, do not wait for it.
        channel.eventLoop.scheduleTask(in: .milliseconds(100)) { channel.close(promise: nil) }
    }
}
