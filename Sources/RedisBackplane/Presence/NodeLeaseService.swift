import Essentials
package import Presence
package import Logging
import RedisClient
import ServiceLifecycle

/// Keeps this node's lease alive, sweeps the presence (users' and topics') of nodes whose
/// lease expired, and restores this node's presence whenever the Redis connection is new (Redis restarted
/// or came back) or its own lease had expired (a pause past the TTL: another node may
/// have swept it), all without being asked.
///
/// Heartbeats carry `wallMilliseconds()` (every node of a cluster compares them) and the
/// loop sleeps on `clock`: tests drive both on virtual time.
package struct NodeLeaseService<C: Clock>: Service where C.Duration == Duration {
    package let nodeID: String
    /// What this process writes into its lease, naming it to another process that finds
    /// the id taken (`LeaseHolder`).
    package let holder: String
    package let directory: RedisPresenceDirectory
    package let interval: Duration
    package let ttl: Duration
    /// Everything this node holds now, for restoring presence.
    package let localEntries: @Sendable () -> [PresenceEntry]
    /// Topic presence, restored, swept and left with user presence; nil: none kept.
    package let topicPresence: RedisTopicPresence?
    /// The subscriptions this node keeps topic presence for now.
    package let localTopicEntries: @Sendable () -> [(topic: String, entry: PresenceEntry)]
    package let logger: Logger
    package let clock: C
    /// Now, in milliseconds since the Unix epoch.
    package let wallMilliseconds: @Sendable () -> Int64

    package init(
        nodeID: String, holder: String, directory: RedisPresenceDirectory, interval: Duration, ttl: Duration,
        localEntries: @escaping @Sendable () -> [PresenceEntry], logger: Logger,
        clock: C, wallMilliseconds: @escaping @Sendable () -> Int64,
        topicPresence: RedisTopicPresence? = nil,
        localTopicEntries: @escaping @Sendable () -> [(topic: String, entry: PresenceEntry)] = { [] }
    ) {
        self.topicPresence = topicPresence
        self.localTopicEntries = localTopicEntries
        self.holder = holder
        self.clock = clock
        self.wallMilliseconds = wallMilliseconds
        self.nodeID = nodeID
        self.directory = directory
        self.interval = interval
        self.ttl = ttl
        self.localEntries = localEntries
        self.logger = logger
    }

    /// Takes the node id's lease before the node serves anyone. A lease another process keeps
    /// renewing means a live node has this id: `NodeIDInUse`. One left by a process that
    /// died (or a node restarted at once) lapses within the TTL, so the claim waits that long
    /// before it decides. Redis out of reach: the node starts anyway (the heartbeat takes
    /// the lease when Redis answers) and says it could not check.
    package func claim() async throws {
        let deadline = clock.now.advanced(by: ttl + interval)
        while true {
            let found: String?
            do {
                found = try await directory.claim(node: nodeID, holder: holder, ttl: ttl)
            } catch {
                logger.warning("could not check that no live node has this id: Redis did not answer", metadata: ["error": "\(error)"])
                return
            }
            guard let found else { return }
            guard clock.now < deadline else { throw NodeIDInUse(nodeID: nodeID, holder: found) }
            logger.notice("this node id's lease is held; waiting for it to lapse", metadata: ["holder": "\(found)"])
            try await clock.sleep(for: min(interval, ttl) / 4)
        }
    }

    package func run() async throws {
        var restoredGeneration: UInt64 = 0
        // Set until a restore succeeds.
        var restoreOwed = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let now = wallMilliseconds()
                let renewal = try await directory.heartbeat(node: nodeID, holder: holder, nowMilliseconds: now, ttl: ttl)
                if case .takenOver(let other) = renewal {
                    logger.error("another node took this node id while its lease had lapsed: two nodes run with one id", metadata: ["other": "\(other)"])
                }
                let generation = directory.redis.generation
                // Both failure flags are taken every round (`||` would skip the second).
                let failedWrites = [directory.takeWriteFailure(), topicPresence?.takeWriteFailure() ?? false].contains(true)
                restoreOwed = restoreOwed || generation != restoredGeneration || renewal != .renewed || failedWrites
                if restoreOwed {
                    try await restore()
                    restoredGeneration = generation
                    restoreOwed = false
                }
                for node in try await directory.staleNodes(before: now - ttl.milliseconds) where node != nodeID {
                    // Topics first: the users' sweep drops the node from the index of nodes.
                    let removed = try await topicPresence?.sweep(node: node) ?? 0
                    let users = try await directory.sweep(node: node)
                    if removed + users > 0 {
                        logger.warning("swept a dead node's presence", metadata: ["dead": "\(node)", "entries": "\(users)", "topic-entries": "\(removed)"])
                    }
                }
            } catch {
                logger.warning("lease heartbeat failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
        }
        // Leaving on purpose: take our presence and lease with us — also when the service
        // group has cancelled us by now (a cancelled send would leave the lease to expire).
        let (directory, topicPresence, nodeID, holder) = (self.directory, self.topicPresence, self.nodeID, self.holder)
        await Task {
            try? await topicPresence?.replace(node: nodeID, with: [])
            try? await directory.replace(node: nodeID, with: [])
            try? await directory.leave(node: nodeID, holder: holder)
        }.value
    }
}

extension NodeLeaseService where C == ContinuousClock {
    package init(
        nodeID: String, holder: String, directory: RedisPresenceDirectory, interval: Duration, ttl: Duration,
        localEntries: @escaping @Sendable () -> [PresenceEntry], logger: Logger, topicPresence: RedisTopicPresence? = nil,
        localTopicEntries: @escaping @Sendable () -> [(topic: String, entry: PresenceEntry)] = { [] }
    ) {
        self.init(
            nodeID: nodeID, holder: holder, directory: directory, interval: interval, ttl: ttl, localEntries: localEntries, logger: logger,
            clock: ContinuousClock(), wallMilliseconds: { WallClock.milliseconds }, topicPresence: topicPresence, localTopicEntries: localTopicEntries
        )
    }
}
