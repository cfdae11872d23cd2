/// Who may connect to this node now: its connection slots, the connections not yet
/// upgraded per source address, connections and connects per user, and the
/// once-a-second warning when they refuse. The client listener asks it at accept and at
/// the upgrade; nothing else does.
final class Admission: Sendable {
    /// Client connections held at most (see `NodeConfiguration.maxConnections`).
    var maxConnections: Int { slots.capacity }
    let slots: ConnectionSlots
    /// Connections not yet upgraded, by source address.
    let pending: CappedCounts
    /// Connections on this node, by user.
    let userConnections: CappedCounts
    /// Connects to this node, by user, a minute.
    let connectRates: ConnectRates
    /// When a refusal was last logged, so a full node logs once a second at most.
    let capacityWarning = CapacityWarning()

    init(maxConnections: Int, configuration: NodeConfiguration) {
        slots = ConnectionSlots(capacity: maxConnections)
        pending = CappedCounts(capacityPerKey: configuration.maxPendingPerAddress)
        userConnections = CappedCounts(capacityPerKey: configuration.maxConnectionsPerUser)
        connectRates = ConnectRates(perMinute: configuration.userConnectsPerMinute)
    }
}
