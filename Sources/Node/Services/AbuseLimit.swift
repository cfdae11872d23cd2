/// A limit that protects the node or other clients from one client, as counted in
/// `switchboard_limit_hits_total{limit=…}` (docs/protocol.md lists each with its default).
enum AbuseLimit: String, Sendable, CaseIterable {
    /// A connection that was not upgraded within `handshake-timeout` was dropped.
    case handshakeTimeout = "handshake_timeout"
    /// A source address already had `max-pending-per-address` connections not yet upgraded.
    case pendingPerAddress = "pending_per_address"
    /// A request with a body on the client port (none of its endpoints takes one).
    case requestBody = "request_body"
}
