package import Logging
package import NIOCore
import Synchronization

/// Sharded pub/sub over a Redis Cluster: one `RedisSubscriber` (SSUBSCRIBE) per shard,
/// each subscribed to the wanted channels whose slots that shard serves, so a message
/// travels only through the shard that owns its channel. A new topology (a failover
/// promoted a replica, slots moved) replaces the subscribers of the shards that changed;
/// the new ones subscribe to everything wanted on their shard. When a shard's
/// subscription breaks, `onShardLost` learns which channels it served (messages on them
/// may have been lost meanwhile).
package final class RedisClusterSubscriber: RedisChannelSubscriber {
    package typealias ShardLostHandler = @Sendable (_ served: @escaping @Sendable (_ channel: String) -> Bool) -> Void

    private let cluster: RedisCluster
    private let eventLoop: any EventLoop
    private let fixedChannels: [String]
    private let logger: Logger
    private let wanted: RedisSubscriber.Wanted
    private let allWanted: RedisSubscriber.AllWanted
    private let onMessage: RedisSubscriber.MessageHandler
    private let onShardLost: ShardLostHandler
    private let onSubscribed: RedisSubscriber.SubscribedHandler
    private let state = Mutex(State())

    private struct State {
        var subscribers: [(shard: RedisClusterTopology.Shard, subscriber: RedisSubscriber)] = []
        var started = false
        var stopped = false
    }

    package init(
        cluster: RedisCluster, eventLoop: any EventLoop, channels: [String], logger: Logger,
        wanted: @escaping RedisSubscriber.Wanted, allWanted: @escaping RedisSubscriber.AllWanted,
        onMessage: @escaping RedisSubscriber.MessageHandler, onShardLost: @escaping ShardLostHandler,
        onSubscribed: @escaping RedisSubscriber.SubscribedHandler
    ) {
        self.cluster = cluster
        self.eventLoop = eventLoop
        fixedChannels = channels
        self.logger = logger
        self.wanted = wanted
        self.allWanted = allWanted
        self.onMessage = onMessage
        self.onShardLost = onShardLost
        self.onSubscribed = onSubscribed
    }

    package var isSubscribed: Bool {
        state.withLock { !$0.subscribers.isEmpty && $0.subscribers.allSatisfy { $0.subscriber.isSubscribed } }
    }

    package func start() {
        let first = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        cluster.onTopology { [weak self] topology in self?.follow(topology) }
    }

    package func stop() {
        let subscribers = state.withLock { state in
            state.stopped = true
            defer { state.subscribers = [] }
            return state.subscribers.map(\.subscriber)
        }
        subscribers.forEach { $0.stop() }
    }

    package func refresh(_ channel: String) {
        let slot = RedisHashSlot.of(channel)
        let subscriber = state.withLock { $0.subscribers.first { $0.shard.owns(slot: slot) }?.subscriber }
        // None: the next topology's subscriber subscribes to it if still wanted.
        subscriber?.refresh(channel)
    }

    /// Keeps the subscribers of shards whose primary and slots are unchanged; replaces the rest.
    private func follow(_ topology: RedisClusterTopology) {
        let (started, stopped) = state.withLock { state -> ([RedisSubscriber], [RedisSubscriber]) in
            guard !state.stopped else { return ([], []) }
            var kept: [(shard: RedisClusterTopology.Shard, subscriber: RedisSubscriber)] = []
            var stopped: [RedisSubscriber] = []
            for entry in state.subscribers {
                if topology.shards.contains(where: { $0.primary == entry.shard.primary && $0.ranges == entry.shard.ranges }) {
                    kept.append(entry)
                } else {
                    stopped.append(entry.subscriber)
                }
            }
            var started: [RedisSubscriber] = []
            for shard in topology.shards where !kept.contains(where: { $0.shard.primary == shard.primary && $0.shard.ranges == shard.ranges }) {
                let subscriber = makeSubscriber(for: shard)
                kept.append((shard, subscriber))
                started.append(subscriber)
            }
            state.subscribers = kept
            return (started, stopped)
        }
        for subscriber in stopped {
            subscriber.stop()
        }
        started.forEach { $0.start() }
    }

    private func makeSubscriber(for shard: RedisClusterTopology.Shard) -> RedisSubscriber {
        let serves: @Sendable (String) -> Bool = { channel in shard.owns(slot: RedisHashSlot.of(channel)) }
        let (wanted, allWanted, onShardLost) = (self.wanted, self.allWanted, self.onShardLost)
        return RedisSubscriber(
            endpoint: cluster.endpoint.at(shard.primary), eventLoop: eventLoop, channels: fixedChannels.filter(serves), sharded: true,
            logger: logger,
            wanted: { channel in serves(channel) && wanted(channel) },
            allWanted: { allWanted().filter(serves) },
            onMessage: onMessage,
            onState: { subscribed in if !subscribed { onShardLost(serves) } },
            onSubscribed: onSubscribed
        )
    }
}
