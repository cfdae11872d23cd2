/// One connection of one user: the unit that presence announces and withdraws.
public struct PresenceEntry: Hashable, Sendable {
    public let user: String
    public let connection: ConnectionID

    public init(user: String, connection: ConnectionID) {
        self.user = user
        self.connection = connection
    }

    public var nodeID: String { connection.nodeID }
}
