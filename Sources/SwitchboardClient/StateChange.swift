/// One change of a client's connection state, with what caused it.
public struct StateChange: Sendable, Equatable {
    public let state: ConnectionState
    /// The close code that led here (1012 for a drain), or 401 for an authentication refusal.
    public let code: Int?
    public let reason: String?
    /// The URL the client (re)connects to.
    public let url: String?
    /// How long the client waits before the next attempt, when reconnecting.
    public let delay: Duration?

    init(_ state: ConnectionState, code: Int? = nil, reason: String? = nil, url: String? = nil, delay: Duration? = nil) {
        self.state = state
        self.code = code
        self.reason = reason
        self.url = url
        self.delay = delay
    }
}
