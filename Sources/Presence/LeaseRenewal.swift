/// What a node's heartbeat found in its lease before renewing it.
package enum LeaseRenewal: Equatable, Sendable {
    /// Still this process's: nothing happened meanwhile.
    case renewed
    /// Gone (a pause past the TTL): another node may have swept this one's presence.
    case expired
    /// Another process took the node id while the lease was gone: two nodes now run with
    /// one id (the value names the other).
    case takenOver(by: String)
}
