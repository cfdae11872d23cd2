package import Identity
/// One connection of one user: the unit that presence announces and withdraws.
package struct PresenceEntry: Hashable, Sendable {
    package let user: String
    package let connection: ConnectionID

    package init(user: String, connection: ConnectionID) {
        self.user = user
        self.connection = connection
    }

    package var nodeID: String { connection.nodeID }
}
