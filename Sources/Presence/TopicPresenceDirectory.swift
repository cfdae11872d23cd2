/// Who is subscribed to the topics whose namespace keeps presence (`presence=on`): each
/// subscribed connection with its user. Written by the node holding the connection, like
/// user presence, and swept with that node's lease when it dies. Implementations:
/// `InProcessTopicPresence` (one process) and the Redis one (a cluster).
package protocol TopicPresenceDirectory: Sendable {
    func join(topic: String, _ entry: PresenceEntry) async throws
    func leave(topic: String, _ entry: PresenceEntry) async throws
    /// At most `limit` subscribed connections of `topic`, from every node, and their total.
    func lookup(topic: String, limit: Int) async throws -> PresenceLookup
}
