package import Identity

/// Carries pushes between nodes.
///
/// A node holds a user while one of the user's connections is on it (`hold`/`release`,
/// counted per connection): a push to the user reaches every node holding them, with
/// no lookup first. Relay is at-most-once, and keeps order per (origin connection's
/// event loop, target node). Answers come through callbacks — on the caller's event loop
/// when it runs on one — because this is every message's path and a chain of futures
/// was measured to cost more than the rest of it (docs/benchmarks.md).
/// Implementations: `InProcessRelayBus` (nodes in one process) and the Redis pub/sub
/// bus (a cluster).
package protocol RelayBus: Sendable {
    typealias Answer<Value> = @Sendable (Result<Value, any Error>) -> Void

    /// Hands `message` to every node that holds `user`, the origin included; answers how
    /// many nodes that was.
    func send(_ message: RelayMessage, toUser user: String, then answer: @escaping Answer<Int>)
    /// Hands `message` to node `nodeID`; false when no such node is listening.
    func send(_ message: RelayMessage, to nodeID: String, then answer: @escaping Answer<Bool>)
    /// Hands `message` to every node interested in `topic` (one of its connections is
    /// subscribed), the origin included; answers how many nodes that was.
    func send(_ message: RelayMessage, toTopic topic: String, then answer: @escaping Answer<Int>)
    /// Hands `message` to every node but its origin; how many received it.
    func broadcast(_ message: RelayMessage, then answer: @escaping Answer<Int>)
    /// Appends a push to `user`'s inbox and hands it, with its position, to every node
    /// holding the user — the origin included, so that all of the user's connections see
    /// the inbox's order; answers where it was stored and how many nodes got it.
    ///
    /// A user has an inbox once connected (`readInbox(…, beginning: true)`) until it
    /// expires. For a user without one who is not connected either, the push begins one
    /// only if `beginsInbox` (a backend asked for it by name); otherwise it is handed on
    /// unstored (position nil), so that names nobody uses cost nothing to keep.
    func store(
        _ push: PushPayload, from originNodeID: String, forUser user: String, beginsInbox: Bool, then answer: @escaping Answer<StoredPush>
    )
    /// Appends a publish to `topic`'s history (trimmed to `history`'s length, living its
    /// ttl) and hands it, with its position, to every node interested in the topic — the
    /// origin included, so that every subscriber sees the history's order. A topic without
    /// a history begins one only while some node is interested (a subscribe begins it too,
    /// see `readHistory`); otherwise the publish is handed on unstored (position nil), so
    /// that topics nobody follows cost nothing to keep.
    func store(
        _ push: PushPayload, from originNodeID: String, forTopic topic: String, except: ConnectionID?, history: TopicHistory,
        then answer: @escaping Answer<StoredPush>
    )
    /// `topic`'s kept publishes after offset `after`, at most `limit` and about `maxBytes`,
    /// with where the history stands. `beginning` (a subscribe): the history begins now if
    /// it has none, and an existing one lives another `ttl`.
    func readHistory(of topic: String, after: UInt64, limit: Int, maxBytes: Int, beginning: TopicHistory?) async throws -> InboxRead
    /// `user`'s durable pushes after offset `after` and before `until` (nil: the end),
    /// at most `limit` and about `maxBytes` of stored pushes (at least one, when there is
    /// one), with where the inbox stands. `beginning` (a connect): the user's inbox begins
    /// now if it has none, and an existing one lives another inbox ttl.
    func readInbox(of user: String, after: UInt64, until: UInt64?, limit: Int, maxBytes: Int, beginning: Bool) async throws -> InboxRead
    /// `nodeID` holds one more connection of `user`; returns once pushes to the user from
    /// any node reach this one (what a client's welcome waits for).
    func hold(user: String, nodeID: String) async
    /// `nodeID` holds one connection of `user` fewer.
    func release(user: String, nodeID: String)
    /// One more of `nodeID`'s connections is subscribed to `topic`; returns once publishes
    /// to the topic from any node reach this one (what a subscribe's answer waits for).
    func subscribe(topic: String, nodeID: String) async
    /// One of `nodeID`'s connections subscribed to `topic` fewer.
    func unsubscribe(topic: String, nodeID: String)
    /// Starts handing messages for `nodeID` (its users', its own, broadcasts) to `delivery`.
    func attach(nodeID: String, delivery: any LocalDelivery) async throws
    /// Stops handing messages to `nodeID`.
    func detach(nodeID: String) async
    /// Whether cross-node delivery works right now (for `/readyz`).
    var isHealthy: Bool { get }
    /// Whether pushes to `user` from other nodes reach this node now (what `hold` waits for).
    func reaches(user: String) -> Bool
    /// Whether publishes to `topic` from other nodes reach this node now (what `subscribe` waits for).
    func reaches(topic: String) -> Bool
}

extension RelayBus {
    package var isHealthy: Bool { true }
    package func reaches(user: String) -> Bool { true }
    package func reaches(topic: String) -> Bool { true }
}
