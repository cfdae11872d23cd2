/// The node's first frame on a connection: where the client is.
public struct Welcome: Sendable, Equatable {
    /// The connection's cluster-unique id, e.g. `node-1/42`.
    public let connection: String
    public let node: String
    public let user: String
    /// Where the user's inbox stands, and whether this connection's resume recovered.
    public let inbox: InboxState
    /// When the connection's token expires (unix ms): a token provider is asked for a
    /// fresh one before then, sent in band; a fixed token's connection ends (4001).
    public let tokenExpiresAtMs: Int64?
    /// What the node enforces on this connection; nil from a node that does not announce it.
    public let limits: Limits?
    /// Topics a backend subscribed the user to (Gateway API `Subscribe`): this connection
    /// is subscribed to them already.
    public var topics: [String] = []
}
