/// Who is connected where.
///
/// The node announces a connection only after it is in the node's local map, and
/// withdraws it when it leaves, so a lookup never names a connection that cannot be
/// reached. Implementations: `InProcessPresenceDirectory` (one process) and the Redis
/// directory (a cluster).
package protocol PresenceDirectory: Sendable {
    func announce(_ entry: PresenceEntry) async throws
    func withdraw(_ entry: PresenceEntry) async throws
    /// At most `limit` connections of `user`, from every node, and their total: a user
    /// with thousands of connections costs one bounded answer.
    func lookup(user: String, limit: Int) async throws -> PresenceLookup
}

extension PresenceDirectory {
    /// Every connection of `user`, on every node (for backends and tests).
    package func lookup(user: String) async throws -> [PresenceEntry] {
        try await lookup(user: user, limit: .max).entries
    }
}
