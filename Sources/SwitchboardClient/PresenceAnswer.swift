import SwiftProtobuf

/// Where a user is connected: at most the node's `presence-limit` connections, and the count of all.
public struct PresenceAnswer: Sendable, Equatable {
    public struct Connection: Sendable, Equatable {
        public let id: String
        public let node: String

        public init(id: String, node: String) {
            self.id = id
            self.node = node
        }

        /// From an answer's `{"id", "node"}`.
        init(_ value: Google_Protobuf_Value) {
            let fields = value.structValue.fields
            self.init(id: fields["id"]?.stringValue ?? "", node: fields["node"]?.stringValue ?? "")
        }
    }

    public let user: String
    public let online: Bool
    public let connections: [Connection]
    public let count: Int
}
