/// Where the nodes of a cluster keep their latest stats snapshots, so that any node can
/// show every node on the dashboard. Snapshots are opaque bytes (JSON) to the store.
package protocol StatsStore: Sendable {
    /// Stores `node`'s snapshot; it is gone after `ttl` unless stored again.
    func store(node: String, snapshot: [UInt8], ttl: Duration) async throws
    /// Forgets `node`'s snapshot at once (a node stopping).
    func remove(node: String) async throws
    /// Every live node's latest snapshot (the nodes with a lease and a snapshot), ordered by node id.
    func snapshots() async throws -> [[UInt8]]
}
