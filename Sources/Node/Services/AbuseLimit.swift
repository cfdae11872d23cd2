/// A limit that protects the node or other clients from one client, as counted in
/// `switchboard_limit_hits_total{limit=…}` (docs/protocol.md lists each with its default).
enum AbuseLimit: String, Sendable, CaseIterable {
    /// A connection that was not upgraded within `handshake-timeout` was dropped.
    case handshakeTimeout = "handshake_timeout"
    /// A source address already had `max-pending-per-address` connections not yet upgraded.
    case pendingPerAddress = "pending_per_address"
    /// A request with a body on the client port (none of its endpoints takes one).
    case requestBody = "request_body"
    /// A user at `max-connections-per-user` on this node tried one more (429).
    case userConnections = "user_connections"
    /// A user past `user-connects-per-minute` on this node tried once more (429).
    case userConnects = "user_connects"
    /// A frame past the connection's message or byte rate, refused `rate_limited`.
    case rate
    /// A user's message to a connection whose queue was half full, dropped so that senders
    /// cannot get a receiver closed as a slow consumer.
    case receiverQueue = "receiver_queue"
    /// A connection closed (4029) for sending on while refused.
    case rateClose = "rate_close"
    /// A browser page from an origin the node does not allow (403, `allowed-origins`).
    case origin
    /// A connection from a trusted proxy without a valid PROXY protocol header, closed.
    case proxyHeader = "proxy_header"
}
