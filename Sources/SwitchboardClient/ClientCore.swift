import SwitchboardWire
import WSClient

/// A client's mutable state, behind its mutex: the live connection's outbox, the calls
/// waiting for their answers, and the callers waiting for a connection.
struct ClientCore: ~Copyable {
    var state: ConnectionState = .idle
    var welcome: Welcome?
    /// Frames for the live socket; nil while there is none.
    var outbox: AsyncStream<WebSocketOutboundWriter.OutboundFrame>.Continuation?
    var pending: [String: CheckedContinuation<Switchboard_V1_ServerFrame, any Error>] = [:]
    var waiters: [UInt64: CheckedContinuation<Welcome, any Error>] = [:]
    /// Backoff pauses of `run()`, woken early when the client stops.
    var sleepers: [UInt64: CheckedContinuation<Void, Never>] = [:]
    var nextID: UInt64 = 1
    /// The last inbox position seen; reconnects resume after it.
    var position: InboxPosition?
    /// Durable pushes held while a gap before them is fetched; nil when there is no gap.
    var gap: [Push]?
    /// Counts gaps, so that a fill outlived by a reconnect changes nothing.
    var gapNumber: UInt64 = 0
    /// Topics subscribed: subscribed again after every welcome.
    var topics: Set<String> = []
    /// The last position seen of each subscribed topic that keeps history: a resubscribe
    /// asks for what came after it.
    var topicPositions: [String: InboxPosition] = [:]
    var stopped = false
    /// Why the client stopped, for callers that arrive afterwards.
    var stopReason: SwitchboardClientError?

    mutating func makeID() -> UInt64 {
        defer { nextID += 1 }
        return nextID
    }
}
