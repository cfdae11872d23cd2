/// The WebSocket close codes of the protocol and what a client does after each
/// (docs/protocol.md § Close codes).
public enum CloseCode: Int, Sendable, CaseIterable {
    /// A close either side asked for.
    case normal = 1000
    /// The node stops this connection (a ping unanswered): reconnect after a backoff.
    case goingAway = 1001
    /// The client broke the WebSocket protocol: final.
    case protocolError = 1002
    /// A text frame that was not UTF-8: final.
    case invalidData = 1007
    /// A message past the node's `maxFrameBytes`: final.
    case tooLarge = 1009
    /// The node failed: reconnect after a backoff.
    case internalError = 1011
    /// The node is draining: reconnect to another node at once.
    case serviceRestart = 1012
    /// The client gave up on a socket (no welcome in time, a heartbeat unanswered).
    case abandoned = 4000
    /// The token expired: reconnect at once with a fresh one.
    case tokenExpired = 4001
    /// The node ended the connection for good (the user was disconnected): final.
    case disconnected = 4003
    /// The client read too slowly (its queue was full): reconnect after a backoff.
    case slowConsumer = 4008
    /// The client kept sending past its rate limit: reconnect after a backoff.
    case rateLimited = 4029

    /// Codes after which reconnecting would fail the same way.
    public var isFinal: Bool { [.protocolError, .invalidData, .tooLarge, .disconnected].contains(self) }
}
