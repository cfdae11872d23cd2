/// Where a user is connected: at most the node's `presence-limit` connections, and the count of all.
public struct PresenceAnswer: Sendable, Equatable {
    public struct Connection: Sendable, Equatable {
        public let id: String
        public let node: String
    }

    public let user: String
    public let online: Bool
    public let connections: [Connection]
    public let count: Int
}
