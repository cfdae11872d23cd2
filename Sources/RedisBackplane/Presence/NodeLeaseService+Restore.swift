import Logging
import Presence

extension NodeLeaseService {
    /// Makes this node's presence in Redis what it holds now: users' connections, then
    /// topic subscriptions.
    package func restore() async throws {
        let entries = try await restore(from: localEntries(), current: localEntries, add: directory.announce, remove: directory.withdraw) {
            try await directory.replace(node: nodeID, with: $0)
        }
        var subscriptions = 0
        if let topicPresence {
            subscriptions = try await restore(
                from: localTopicEntries().map(TopicEntry.init), current: { localTopicEntries().map(TopicEntry.init) },
                add: { try await topicPresence.join(topic: $0.topic, $0.entry) },
                remove: { try await topicPresence.leave(topic: $0.topic, $0.entry) }
            ) { try await topicPresence.replace(node: nodeID, with: $0.map { ($0.topic, $0.entry) }) }
        }
        logger.info("presence restored in redis", metadata: ["connections": "\(entries)", "topic-subscriptions": "\(subscriptions)"])
    }

    /// Replaces the node's entries with `snapshot`, then mends what changed while the
    /// replace was on its way: a connection that opened after the snapshot may have
    /// announced itself before the replace reached Redis (which then dropped it), one that
    /// closed may have withdrawn itself before (which then listed it again). Opened ones
    /// are announced again, closed ones withdrawn again — connection ids are never reused,
    /// so a withdraw of a closed one is always right, and one that closes while it is
    /// announced again is withdrawn after that announce. Answers how many entries the
    /// node holds.
    func restore<Entry: Hashable>(
        from snapshot: [Entry], current: () -> [Entry],
        add: (Entry) async throws -> Void, remove: (Entry) async throws -> Void,
        replace: ([Entry]) async throws -> Void
    ) async throws -> Int {
        try await replace(snapshot)
        let before = Set(snapshot)
        let now = Set(current())
        let opened = now.subtracting(before)
        for entry in before.subtracting(now) { try await remove(entry) }
        for entry in opened { try await add(entry) }
        guard !opened.isEmpty else { return now.count }
        let after = Set(current())
        for entry in opened.subtracting(after) { try await remove(entry) }
        return after.count
    }
}

/// A topic subscription as a set member, for `restore`.
private struct TopicEntry: Hashable {
    let topic: String
    let entry: PresenceEntry

    init(_ pair: (topic: String, entry: PresenceEntry)) {
        topic = pair.topic
        entry = pair.entry
    }
}
