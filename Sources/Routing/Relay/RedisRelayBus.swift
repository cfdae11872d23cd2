#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
package import Logging
package import NIOCore
import Presence
package import RedisClient
import SwiftProtobuf
import SwitchboardProtocol
import Synchronization

/// Relay through Redis pub/sub: a channel per user, held by the nodes that hold the
/// user's connections; a channel per node (pushes to one connection); one broadcast
/// channel. A push is one PUBLISH, written on the caller's event loop (its own Redis
/// connection, pipelined) whose answer — how many subscribers got it — is how many
/// nodes hold the target. The origin skips its own copy: it has delivered locally.
package final class RedisRelayBus: RelayBus {
    private let redis: RedisConnectionGroup
    private let channels: RelayChannels
    private let logger: Logger
    private let subscriber: RedisSubscriber
    private let target = Target()

    /// Where relayed messages go once attached: set from `attach`, read on the subscriber's loop.
    private final class Target: Sendable {
        let value = Mutex<(nodeID: String, delivery: any LocalDelivery)?>(nil)
    }

    package init(redis: RedisConnectionGroup, channels: RelayChannels, nodeID: String, logger: Logger) {
        self.redis = redis
        self.channels = channels
        self.logger = logger
        let target = self.target
        let broadcast = channels.broadcast
        subscriber = RedisSubscriber(
            endpoint: redis.endpoint, eventLoop: redis.primary.eventLoop, channels: [channels.node(nodeID), broadcast], logger: logger
        ) { channel, payload in
            guard let (nodeID, delivery) = target.value.withLock({ $0 }) else { return }
            guard let batch = try? Switchboard_Relay_V1_RelayBatch(serializedBytes: Array(payload.readableBytesView)) else {
                logger.warning("dropping an undecodable relay message", metadata: ["channel": "\(String(buffer: channel))"])
                return
            }
            if batch.originNode == nodeID { return }
            for item in batch.items {
                guard let audience = Self.audience(item) else { continue }
                let content: RelayMessage.Content = item.hasDisconnect
                    ? .disconnect(reason: item.disconnect.reason)
                    : .push(PushPayload(from: item.from, kind: item.kind, data: item.hasDataJson ? Array(item.dataJson) : nil))
                _ = delivery.handle(content, for: audience)
            }
        }
    }

    /// Subscribed to this node's channels, and able to publish.
    package var isHealthy: Bool {
        redis.primary.isConnected && subscriber.isSubscribed
    }

    package func send(_ message: RelayMessage, toUser user: String) -> EventLoopFuture<Int> {
        publish(channels.user(user), message)
    }

    package func send(_ message: RelayMessage, to nodeID: String) -> EventLoopFuture<Bool> {
        publish(channels.node(nodeID), message).map { $0 > 0 }
    }

    /// Encoded once, for every node: the origin skips its own copy.
    package func broadcast(_ message: RelayMessage) -> EventLoopFuture<Int> {
        publish(channels.broadcast, message).map { max($0 - 1, 0) }
    }

    package func hold(user: String, nodeID: String) {
        subscriber.hold(channels.user(user))
    }

    package func release(user: String, nodeID: String) {
        subscriber.release(channels.user(user))
    }

    private func publish(_ channel: String, _ message: RelayMessage) -> EventLoopFuture<Int> {
        let connection = redis.current
        var envelope = Switchboard_Relay_V1_RelayBatch()
        envelope.originNode = message.originNodeID
        envelope.items = [Self.item(message)]
        let payload: [UInt8]
        do {
            payload = try envelope.serializedBytes()
        } catch {
            return connection.eventLoop.makeFailedFuture(error)
        }
        return connection.send(RedisCommand([Self.publishCommand, Array(channel.utf8), payload])).flatMapThrowing { reply in
            switch reply {
            case .integer(let receivers): return Int(receivers)
            case .error(let message): throw RedisError.server(message)
            default: throw RedisError.server("unexpected PUBLISH reply \(reply)")
            }
        }
    }

    private static let publishCommand = Array("PUBLISH".utf8)

    package func attach(nodeID: String, delivery: any LocalDelivery) async throws {
        target.value.withLock { $0 = (nodeID, delivery) }
        subscriber.start()
    }

    package func detach(nodeID: String) async {
        target.value.withLock { $0 = nil }
        subscriber.stop()
    }

    static func item(_ message: RelayMessage) -> Switchboard_Relay_V1_RelayItem {
        var item = Switchboard_Relay_V1_RelayItem()
        switch message.audience {
        case .user(let user): item.user = user
        case .connection(let connection): item.connection = connection.description
        case .everyone: item.everyone = true
        }
        switch message.content {
        case .push(let push):
            item.from = push.from
            item.kind = push.kind
            if let data = push.data { item.dataJson = Data(data) }
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
