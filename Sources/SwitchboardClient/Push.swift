public import SwiftProtobuf

/// A push to this client's user: a user's `send` or a backend's push.
public struct Push: Sendable, Equatable {
    public enum Origin: String, Sendable {
        /// A client's send: `from` is the sender's authenticated user id.
        case user
        /// The Gateway API: `from` is the backend's name.
        case backend
    }

    public let from: String
    public let kind: String
    public let data: Google_Protobuf_Value
    public let origin: Origin
    /// Set on a durable push: its place in the inbox.
    public let position: InboxPosition?
    /// Set on a push published to a topic this client is subscribed to.
    public var topic: String? = nil

    /// `data` decoded as a message, for backends' typed pushes (e.g. `Switchboard_Chat_V1_ChatMessage`).
    public func decode<Message: SwiftProtobuf.Message>(as _: Message.Type) throws -> Message {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return try Message(jsonString: try data.jsonString(), options: options)
    }
}
