/// A push, or a disconnect, on its way from the node that accepted it to a node that
/// holds its audience.
package struct RelayMessage: Sendable {
    /// What the audience gets.
    package enum Content: Sendable {
        case push(PushPayload)
        /// Close the audience's connections with 4003 and this reason.
        case disconnect(reason: String)
        /// Subscribe the audience's connections to a topic, or end that (a backend's
        /// server-side subscription).
        case subscribe(topic: String)
        case unsubscribe(topic: String)
    }

    package var originNodeID: String
    package var audience: PushAudience
    package var content: Content

    package init(originNodeID: String, audience: PushAudience, content: Content) {
        self.originNodeID = originNodeID
        self.audience = audience
        self.content = content
    }
}
