import Synchronization

/// `UserTopicStore` in memory, for a node alone; lists expire as in Redis.
package final class InProcessUserTopicStore: UserTopicStore {
    private let lists = Mutex<[String: (topics: Set<String>, expires: ContinuousClock.Instant)]>([:])
    private let ttl: Duration
    private let now: @Sendable () -> ContinuousClock.Instant

    package init(ttl: Duration, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.ttl = ttl
        self.now = now
    }

    package func add(_ topic: String, for user: String, limit: Int) async throws -> Bool {
        let now = now()
        return lists.withLock { lists in
            var topics = lists[user].flatMap { $0.expires > now ? $0.topics : nil } ?? []
            guard topics.contains(topic) || topics.count < limit else { return false }
            topics.insert(topic)
            lists[user] = (topics, now + ttl)
            return true
        }
    }

    package func remove(_ topic: String, for user: String) async throws {
        lists.withLock { lists in
            lists[user]?.topics.remove(topic)
            if lists[user]?.topics.isEmpty == true { lists[user] = nil }
        }
    }

    package func topics(of user: String) async throws -> [String] {
        let now = now()
        return lists.withLock { lists in
            guard let list = lists[user], list.expires > now else {
                lists[user] = nil
                return []
            }
            lists[user]?.expires = now + ttl
            return list.topics.sorted()
        }
    }
}
