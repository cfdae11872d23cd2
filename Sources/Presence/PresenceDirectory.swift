/// Who is connected where.
///
/// The node announces a connection only after it is in the node's local map, and
/// withdraws it when it leaves, so a lookup never names a connection that cannot be
/// reached. Implementations: `InProcessPresenceDirectory` (one process) and the Redis
/// directory (a cluster).
package protocol PresenceDirectory: Sendable {
    func announce(_ entry: PresenceEntry) async throws
    func withdraw(_ entry: PresenceEntry) async throws
    /// Every connection of `user`, on every node.
    func lookup(user: String) async throws -> [PresenceEntry]
}
