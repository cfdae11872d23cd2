import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Presence
import SwitchboardProtocol

/// Serves one client socket: a read pump that handles the client's frames in order;
/// the write pump that drains the connection's outbound queue onto the socket is the
/// connection's `ConnectionPump`, on its event loop.
struct ClientSession: Sendable {
    let connection: ClientConnection
    let node: GatewayNode
    let logger: Logger

    var metrics: NodeMetrics { node.metrics }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        await ProtocolErrorObserver.install(for: connection, on: connection.channel)
        let pump = ConnectionPump(
            connection: connection, metrics: metrics, pingInterval: TimeAmount(node.configuration.pingInterval)
        ) { [connection] ending in
            // Rare, so a short-lived task: the close goes through the WebSocket handler.
            Task {
                switch ending {
                case .shutdown:
                    connection.markClosing(.shutdown)
                    try? await outbound.close(.goingAway, reason: "node shutting down; reconnect")
                case .disconnect(let reason):
                    connection.markClosing(.disconnected)
                    try? await outbound.close(CloseReason.disconnectedCode, reason: reason)
                case .overflow, .finished:
                    break
                }
            }
        }
        do {
            try await ConnectionPump.install(pump, on: connection.channel)
        } catch {
            logger.error("cannot serve the connection: no WebSocket frame decoder in its pipeline", metadata: ["error": "\(error)"])
            return
        }
        // Counted once the socket is gone, when every reason for closing it has been seen.
        connection.channel.closeFuture.whenComplete { [connection, metrics] _ in metrics.closed(connection.reason) }
        guard node.registry.add(connection) else {
            try? await outbound.close(.goingAway, reason: "node is draining; reconnect elsewhere")
            return
        }
        metrics.connectionsOpened.increment()
        metrics.connections.record(node.registry.count)
        let entry = PresenceEntry(user: connection.user, connection: connection.id)
        do {
            try await node.presence.announce(entry)
        } catch {
            logger.warning("presence announce failed; local delivery still works", metadata: ["error": "\(error)"])
        }
        var welcome = Switchboard_V1_ServerFrame()
        welcome.welcome.connection = connection.id.description
        welcome.welcome.node = connection.id.nodeID
        welcome.welcome.user = connection.user
        connection.enqueue(FrameCodec.encode(welcome, as: connection.format))
        logger.debug("connected")

        await readPump(inbound, outbound)
        connection.queue.finish(.finished)

        node.registry.remove(connection)
        metrics.connections.record(node.registry.count)
        do {
            try await node.presence.withdraw(entry)
        } catch {
            logger.warning("presence withdraw failed", metadata: ["error": "\(error)"])
        }
        logger.debug("disconnected", metadata: ["reason": "\(connection.reason.rawValue)"])
    }

    /// Handles frames in order; backend calls run alongside and are cancelled when the
    /// client goes.
    private func readPump(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async {
        await withDiscardingTaskGroup { calls in
            do {
                for try await message in inbound.messages(maxSize: node.configuration.maxFrameBytes) {
                    metrics.messagesIn.increment()
                    if let call = await handle(message) {
                        calls.addTask(operation: call)
                    }
                }
            } catch {
                let code = Self.closeCode(of: error)
                connection.markClosing(CloseReason(closeCode: code))
                logger.debug("closing after a bad message", metadata: ["close.code": "\(code)", "error": "\(error)"])
                try? await outbound.close(code, reason: nil)
            }
            calls.cancelAll()
        }
    }

    /// The close code that a failed read calls for. WSCore reports it inside an error
    /// type it does not export, so it is read by reflection.
    static func closeCode(of error: any Error) -> WebSocketErrorCode {
        if case NIOWebSocketError.invalidFrameLength = error { return .messageTooLarge }
        for child in Mirror(reflecting: error).children {
            if let code = child.value as? WebSocketErrorCode { return code }
        }
        return .unexpectedServerError
    }
}
