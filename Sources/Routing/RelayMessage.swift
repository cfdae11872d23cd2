import SwitchboardProtocol

/// A push on its way from the node that accepted it to a node that holds its audience.
public struct RelayMessage: Sendable {
    public var originNodeID: String
    public var audience: PushAudience
    public var push: Switchboard_V1_Push

    public init(originNodeID: String, audience: PushAudience, push: Switchboard_V1_Push) {
        self.originNodeID = originNodeID
        self.audience = audience
        self.push = push
    }
}
