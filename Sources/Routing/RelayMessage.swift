import SwitchboardProtocol

/// A push, or a disconnect, on its way from the node that accepted it to a node that
/// holds its audience.
public struct RelayMessage: Sendable {
    /// What the audience gets.
    public enum Content: Sendable {
        case push(Switchboard_V1_Push)
        /// Close the audience's connections with 4003 and this reason.
        case disconnect(reason: String)
    }

    public var originNodeID: String
    public var audience: PushAudience
    public var content: Content

    public init(originNodeID: String, audience: PushAudience, content: Content) {
        self.originNodeID = originNodeID
        self.audience = audience
        self.content = content
    }

    public init(originNodeID: String, audience: PushAudience, push: Switchboard_V1_Push) {
        self.init(originNodeID: originNodeID, audience: audience, content: .push(push))
    }
}
