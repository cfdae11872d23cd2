/// Where a client's connection stands.
public enum ConnectionState: String, Sendable {
    /// Not started (`run()` not called yet).
    case idle
    /// The first connection is being made.
    case connecting
    /// Welcomed by a node: calls and pushes flow.
    case open
    /// Lost, or refused, and trying again (at once after a drain).
    case reconnecting
    /// Stopped for good: closed by the app, refused authentication with a fixed token, or
    /// closed by the node with a code that says not to come back (docs/protocol.md).
    case closed
}
