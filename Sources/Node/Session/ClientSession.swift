import CoreMetrics
import Logging
import NIOCore
import NIOWebSocket
import Presence
import Routing
import SwitchboardProtocol

/// What a client connection does, apart from its socket: joining the node (local map,
/// presence, welcome), handling its frames in order (`ClientSession+Frames`), backend
/// calls (`ClientSession+Calls`), and leaving. The socket side is `ClientChannelHandler`
/// (read) and `ConnectionPump` (write), on the connection's event loop.
struct ClientSession: Sendable {
    let connection: ClientConnection
    let services: SessionServices
    let logger: Logger
    /// The current token's admin claim: may read the cluster's stats.
    var isAdmin: Bool { connection.isAdmin }
    /// The inbox position the connect asked to resume after (`?since=`).
    var resumeFrom: InboxPosition?

    var metrics: NodeMetrics { services.metrics }

    private var entry: PresenceEntry { PresenceEntry(user: connection.user, connection: connection.id) }

    /// Joins the node; false when it is draining (the caller closes with 1012).
    func open() async -> Bool {
        guard services.registry.add(connection) else { return false }
        metrics.connectionsOpened.increment()
        metrics.connections.record(services.registry.count)
        // Both before the welcome: pushes from any node reach the connection, and presence lists it.
        async let held: Void = services.bus.hold(user: connection.user, nodeID: services.configuration.nodeID)
        async let stored = storedTopics()
        do {
            try await services.presence.announce(entry)
        } catch {
            services.metrics.presenceErrors.increment()
            logger.warning("presence announce failed; local delivery still works", metadata: ["error": "\(error)"])
        }
        await held
        let topics = await restore(await stored)
        await welcome(topics: topics)
        logger.debug("connected")
        return true
    }

    /// Leaves the node once the socket is gone.
    func close() async {
        connection.queue.finish(.finished)
        connection.tokenExpiry.cancel()
        guard services.registry.remove(connection) else { return }
        services.bus.release(user: connection.user, nodeID: services.configuration.nodeID)
        for topic in connection.topics.removeAll() { await leave(topic) }
        metrics.connections.record(services.registry.count)
        do {
            try await services.presence.withdraw(entry)
        } catch {
            services.metrics.presenceErrors.increment()
            logger.warning("presence withdraw failed", metadata: ["error": "\(error)"])
        }
        logger.debug("disconnected", metadata: ["reason": "\(connection.reason.rawValue)"])
    }
}
