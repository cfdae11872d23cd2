/// The calls the node answers itself, not a backend: reserved `switchboard.*` names in a
/// frame's `call` (docs/protocol.md § Routes). The hot path's operations — `send`,
/// `presence`, `ping` — are cases of the envelope instead; everything else the node
/// does for a client is one of these.
public enum GatewayCall: String, Sendable, CaseIterable {
    /// A user's durable pushes after a position (gap fill).
    case inbox = "switchboard.inbox"
    /// A fresh token for the connection, in band.
    case refresh = "switchboard.refresh"
    /// Every node's stats (the dashboard; admin tokens, or a `--dev` node).
    case cluster = "switchboard.cluster"
}
