import Routing

/// Whether the node takes clients now: not draining and, in a cluster, relaying through
/// the backplane. What `/readyz`, the stats and the dashboard report.
struct Readiness: Sendable {
    let registry: ConnectionRegistry
    let bus: any RelayBus

    var isDraining: Bool { registry.isDraining }
    /// Cross-node delivery works (always, alone).
    var relayIsHealthy: Bool { bus.isHealthy }
    var isReady: Bool { !isDraining && relayIsHealthy }
}
