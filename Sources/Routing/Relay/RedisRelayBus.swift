package import Logging
import Presence
package import RedisClient
import SwiftProtobuf
import SwitchboardProtocol
import Synchronization

/// Relay through Redis pub/sub: one channel per node and one broadcast channel.
///
/// Pushes for the same node are coalesced: while one PUBLISH to a node is on its way,
/// the next pushes for it gather, and go together in the next PUBLISH. One flush at a
/// time per node keeps order per (origin, target). PUBLISH's answer (how many
/// subscribers got it) tells a live node from a dead one.
package final class RedisRelayBus: RelayBus {
    private let redis: RedisConnection
    private let channels: RelayChannels
    private let logger: Logger
    private let outboxes = Mutex<[String: Outbox]>([:])
    private let subscriber = Mutex<RedisSubscriber?>(nil)

    private struct Outbox {
        var items: [(Switchboard_Relay_V1_RelayItem, CheckedContinuation<Bool, any Error>)] = []
        var flushing = false
    }

    package init(redis: RedisConnection, channels: RelayChannels, logger: Logger) {
        self.redis = redis
        self.channels = channels
        self.logger = logger
    }

    /// Subscribed to this node's channels, and able to publish.
    package var isHealthy: Bool {
        redis.isConnected && (subscriber.withLock { $0?.isSubscribed } ?? false)
    }

    package func send(_ message: RelayMessage, to nodeID: String) async throws -> Bool {
        let item = Self.item(message)
        return try await withCheckedThrowingContinuation { continuation in
            let startFlush = outboxes.withLock { outboxes -> Bool in
                outboxes[nodeID, default: Outbox()].items.append((item, continuation))
                guard outboxes[nodeID]?.flushing == false else { return false }
                outboxes[nodeID]?.flushing = true
                return true
            }
            if startFlush {
                Task { await self.flush(nodeID, origin: message.originNodeID) }
            }
        }
    }

    private func flush(_ nodeID: String, origin: String) async {
        while true {
            let batch = outboxes.withLock { outboxes -> [(Switchboard_Relay_V1_RelayItem, CheckedContinuation<Bool, any Error>)] in
                let items = outboxes[nodeID]?.items ?? []
                if items.isEmpty {
                    outboxes[nodeID] = nil
                } else {
                    outboxes[nodeID]?.items = []
                }
                return items
            }
            if batch.isEmpty { return }
            var envelope = Switchboard_Relay_V1_RelayBatch()
            envelope.originNode = origin
            envelope.items = batch.map(\.0)
            do {
                let receivers = try await publish(channels.node(nodeID), envelope)
                batch.forEach { $0.1.resume(returning: receivers > 0) }
            } catch {
                batch.forEach { $0.1.resume(throwing: error) }
            }
        }
    }

    /// Encoded once, for every node: the origin skips its own copy.
    package func broadcast(_ message: RelayMessage) async throws -> Int {
        var envelope = Switchboard_Relay_V1_RelayBatch()
        envelope.originNode = message.originNodeID
        envelope.items = [Self.item(message)]
        return max(try await publish(channels.broadcast, envelope) - 1, 0)
    }

    private func publish(_ channel: String, _ envelope: Switchboard_Relay_V1_RelayBatch) async throws -> Int {
        let payload: [UInt8] = try envelope.serializedBytes()
        return Int(try await redis.send([Array("PUBLISH".utf8), Array(channel.utf8), payload]).integer ?? 0)
    }

    package func attach(nodeID: String, delivery: any LocalDelivery) async throws {
        let broadcastChannel = channels.broadcast
        let logger = self.logger
        let subscriber = RedisSubscriber(
            endpoint: redis.endpoint, channels: [channels.node(nodeID), broadcastChannel], logger: logger
        ) { channel, payload in
            guard let batch = try? Switchboard_Relay_V1_RelayBatch(serializedBytes: payload) else {
                logger.warning("dropping an undecodable relay message", metadata: ["channel": "\(channel)"])
                return
            }
            if channel == broadcastChannel && batch.originNode == nodeID { return }
            for item in batch.items {
                guard let audience = Self.audience(item) else { continue }
                _ = delivery.handle(item.hasDisconnect ? .disconnect(reason: item.disconnect.reason) : .push(item.push), for: audience)
            }
        }
        subscriber.start()
        self.subscriber.withLock { $0 = subscriber }
    }

    package func detach(nodeID: String) async {
        subscriber.withLock { $0.take() }?.stop()
    }

    static func item(_ message: RelayMessage) -> Switchboard_Relay_V1_RelayItem {
        var item = Switchboard_Relay_V1_RelayItem()
        switch message.audience {
        case .user(let user): item.user = user
        case .connection(let connection): item.connection = connection.description
        case .everyone: item.everyone = true
        }
        switch message.content {
        case .push(let push): item.push = push
        case .disconnect(let reason): item.disconnect.reason = reason
        }
        return item
    }

    static func audience(_ item: Switchboard_Relay_V1_RelayItem) -> PushAudience? {
        switch item.audience {
        case .user(let user): .user(user)
        case .connection(let text): ConnectionID(text).map { .connection($0) }
        case .everyone: .everyone
        case nil: nil
        }
    }
}
