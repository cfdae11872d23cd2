/// Who is subscribed to a topic whose namespace keeps presence: users with their
/// connections (at most the node's `presence-limit` connections in all), and the count of
/// every subscribed connection.
public struct TopicPresenceAnswer: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public let user: String
        public let connections: [PresenceAnswer.Connection]
    }

    public let topic: String
    public let users: [Member]
    public let count: Int
}
