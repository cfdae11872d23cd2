import Essentials
import Identity
import Presence
import Routing
import Synchronization

/// The node's local connection map: user → connections, and connection id → connection.
///
/// Sharded by key, one short lock per operation on one shard: both event loops look up
/// receivers at every delivery, and one lock over the whole map made them wait for each
/// other more the more connections it held (docs/benchmarks.md). Delivery copies the few
/// connections it needs and does its encoding and queueing outside the lock.
final class ConnectionRegistry: Sendable {
    private let byUser = ShardedLock<[String: [ClientConnection]]>(count: 64) { [:] }
    private let byID = ShardedLock<[ConnectionID: ClientConnection]>(count: 64) { [:] }
    /// Subscribers of each topic with one here.
    private let byTopic = ShardedLock<[String: [ClientConnection]]>(count: 64) { [:] }
    private let topics = Atomic<Int>(0)
    private let subscriptions = Atomic<Int>(0)
    /// Set once the node drains: no new connection is let in.
    private let draining = Atomic<Bool>(false)
    private let total = Atomic<Int>(0)

    /// Adds a connection; false when the node is draining and it must not join.
    func add(_ connection: ClientConnection) -> Bool {
        // Checked under the user's shard lock, which a drain takes after setting the flag:
        // a connection is either refused or seen by the drain.
        let added = byUser.withLock(for: connection.user) { shard -> Bool in
            guard !draining.load(ordering: .sequentiallyConsistent) else { return false }
            shard[connection.user, default: []].append(connection)
            return true
        }
        guard added else { return false }
        byID.withLock(for: connection.id) { $0[connection.id] = connection }
        total.add(1, ordering: .relaxed)
        return true
    }

    /// Removes the connection; false if it was not in the map.
    @discardableResult
    func remove(_ connection: ClientConnection) -> Bool {
        let removed = byID.withLock(for: connection.id) { $0.removeValue(forKey: connection.id) != nil }
        guard removed else { return false }
        byUser.withLock(for: connection.user) { shard in
            shard[connection.user]?.removeAll { $0 === connection }
            if shard[connection.user]?.isEmpty == true {
                shard[connection.user] = nil
            }
        }
        total.subtract(1, ordering: .relaxed)
        return true
    }

    func connections(of user: String) -> [ClientConnection] {
        byUser.withLock(for: user) { $0[user] ?? [] }
    }

    func holds(user: String) -> Bool {
        byUser.withLock(for: user) { $0[user] != nil }
    }

    func count(of user: String) -> Int {
        byUser.withLock(for: user) { $0[user]?.count ?? 0 }
    }

    func connection(_ id: ConnectionID) -> ClientConnection? {
        byID.withLock(for: id) { $0[id] }
    }

    func all() -> [ClientConnection] {
        var connections: [ClientConnection] = []
        byUser.forEach { shard in
            for held in shard.values { connections += held }
        }
        return connections
    }

    var count: Int { total.load(ordering: .relaxed) }

    /// `connection` gets `topic`'s pushes from now on.
    func subscribe(_ connection: ClientConnection, to topic: String) {
        let first = byTopic.withLock(for: topic) { shard in
            shard[topic, default: []].append(connection)
            return shard[topic]?.count == 1
        }
        if first { topics.add(1, ordering: .relaxed) }
        subscriptions.add(1, ordering: .relaxed)
    }

    func unsubscribe(_ connection: ClientConnection, from topic: String) {
        let (removed, last) = byTopic.withLock(for: topic) { shard -> (Bool, Bool) in
            guard let index = shard[topic]?.firstIndex(where: { $0 === connection }) else { return (false, false) }
            shard[topic]?.remove(at: index)
            guard shard[topic]?.isEmpty == true else { return (true, false) }
            shard[topic] = nil
            return (true, true)
        }
        if last { topics.subtract(1, ordering: .relaxed) }
        if removed { subscriptions.subtract(1, ordering: .relaxed) }
    }

    func subscribers(of topic: String) -> [ClientConnection] {
        byTopic.withLock(for: topic) { $0[topic] ?? [] }
    }

    /// Counted under the topic's lock, without copying its subscribers (a publish to a
    /// kept topic of thousands asks this each time).
    func count(ofTopic topic: String, except: ConnectionID?) -> Int {
        byTopic.withLock(for: topic) { shard in
            guard let subscribers = shard[topic] else { return 0 }
            guard let except else { return subscribers.count }
            return subscribers.count { $0.id != except }
        }
    }

    func holds(topic: String) -> Bool {
        byTopic.withLock(for: topic) { $0[topic] != nil }
    }

    /// Each subscription here to a topic whose namespace keeps presence: what the node
    /// restores in Redis after Redis lost it.
    func topicPresenceEntries(_ namespaces: TopicNamespaces) -> [(topic: String, entry: PresenceEntry)] {
        var entries: [(topic: String, entry: PresenceEntry)] = []
        byTopic.forEach { shard in
            for (topic, connections) in shard where namespaces.rules(for: topic)?.presence == true {
                for connection in connections { entries.append((topic, PresenceEntry(user: connection.user, connection: connection.id))) }
            }
        }
        return entries
    }

    /// Topics with a subscriber here.
    var topicCount: Int { topics.load(ordering: .relaxed) }
    /// Subscriptions of this node's connections.
    var subscriptionCount: Int { subscriptions.load(ordering: .relaxed) }

    var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Stops new connections and returns the ones to close.
    func startDraining() -> [ClientConnection] {
        draining.store(true, ordering: .sequentiallyConsistent)
        return all()
    }
}
