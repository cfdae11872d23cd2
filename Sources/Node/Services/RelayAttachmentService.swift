import Routing
import ServiceLifecycle

/// Joins the relay bus at start and leaves it at shutdown: in the node's services just
/// before the drain, so that it leaves only once the drain has closed every connection
/// (a service group stops services in reverse order).
struct RelayAttachmentService: Service {
    let bus: any RelayBus
    let nodeID: String
    /// Where relayed messages for this node's users go.
    let delivery: any LocalDelivery

    func run() async throws {
        try await bus.attach(nodeID: nodeID, delivery: delivery)
        try? await gracefulShutdown()
        await bus.detach(nodeID: nodeID)
    }
}
