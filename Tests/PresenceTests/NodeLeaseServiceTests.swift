import Identity
import RedisBackplane
import Essentials
import Logging
import Presence
import RedisClient
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing
import TestSupport

/// The lease and the sweep on virtual time against a real Redis: heartbeats carry the test
/// clock's time, so when a dead node's presence goes is exact, however busy the machine.
@Suite("Node lease and sweep on virtual time", .tags(.redis))
struct NodeLeaseServiceTests {
    /// The node defaults: heartbeat every second, lease of two.
    static let interval = Duration.seconds(1)
    static let ttl = Duration.seconds(2)
    /// Virtual wall time starts here (milliseconds since the epoch).
    static let epoch: Int64 = 1_800_000_000_000

    /// Where presence lives: one Redis, or a Redis Cluster (keys by slot, changes shard by shard).
    enum Deployment: String, CaseIterable, CustomTestStringConvertible {
        case single, cluster
        var testDescription: String { rawValue == "single" ? "one Redis" : "Redis Cluster" }
    }

    /// A presence directory on the shared Redis (or Redis Cluster), under a prefix of its own.
    static func directory(_ deployment: Deployment) async throws -> (RedisConnectionGroup, PresenceKeys, RedisPresenceDirectory) {
        let endpoint = switch deployment {
        case .single: try await RedisServer.shared().endpoint
        case .cluster: try await TestRedisCluster.shared().endpoint
        }
        let connection = RedisConnectionGroup(endpoint: endpoint, logger: Logger(label: "lease-test"))
        let keys = PresenceKeys(prefix: "lease\(UInt32.random(in: 0...UInt32.max)):", hashTagged: deployment == .cluster)
        return (connection, keys, RedisPresenceDirectory(redis: connection, keys: keys))
    }

    /// A lease service for `nodeID` whose clock and heartbeat times are `clock`'s. The lease
    /// key also expires in Redis' real time after `ttl`: a test that looks for the key gives
    /// a long one, so that a busy machine cannot expire it before the test looks.
    static func service(
        _ nodeID: String, _ directory: RedisPresenceDirectory, clock: ManualClock, holding entries: [PresenceEntry] = [], ttl: Duration = ttl,
        topics: RedisTopicPresence? = nil, subscribed: [(topic: String, entry: PresenceEntry)] = []
    ) -> NodeLeaseService<ManualClock> {
        service(nodeID, directory, clock: clock, ttl: ttl, topics: topics, holding: { entries }, subscribed: { subscribed })
    }

    /// The same, holding what `holding` and `subscribed` answer when asked.
    static func service(
        _ nodeID: String, _ directory: RedisPresenceDirectory, clock: ManualClock, ttl: Duration = ttl, topics: RedisTopicPresence? = nil,
        holding: @escaping @Sendable () -> [PresenceEntry], subscribed: @escaping @Sendable () -> [(topic: String, entry: PresenceEntry)] = { [] }
    ) -> NodeLeaseService<ManualClock> {
        NodeLeaseService(
            nodeID: nodeID, holder: "\(nodeID)-host:8080, pid 1", directory: directory, interval: interval, ttl: ttl,
            localEntries: holding, logger: Logger(label: "lease-test"),
            clock: clock, wallMilliseconds: { epoch + clock.now.offset.milliseconds },
            topicPresence: topics, localTopicEntries: subscribed
        )
    }

    @Test("a node that stopped heartbeating keeps its presence for its lease TTL and loses it by the next sweep: within TTL + interval", arguments: Deployment.allCases)
    func deadNodeIsSwept(deployment: Deployment) async throws {
        let (connection, keys, directory) = try await Self.directory(deployment)
        defer { connection.close() }
        let kim = PresenceEntry(user: "kim", connection: ConnectionID(nodeID: "doomed", sequence: 1))

        // The doomed node's last heartbeat was at the epoch; then it died (its lease key is
        // given 1 ms of real time, so that only the heartbeat's time decides from here).
        _ = try await directory.heartbeat(node: "doomed", holder: "doomed-host:8080, pid 1", nowMilliseconds: Self.epoch, ttl: .milliseconds(1))
        try await directory.announce(kim)
        try await waitUntil { try await connection.send(key: keys.lease("doomed"), ["EXISTS", keys.lease("doomed")]).integer == 0 }

        let clock = ManualClock()
        let survivor = Self.service("survivor", directory, clock: clock)
        let goneAt: Duration = try await testGracefulShutdown { trigger in
            let run = Task { try await survivor.run() }
            defer { trigger.triggerGracefulShutdown() }
            var goneAt: Duration?
            while goneAt == nil, clock.now.offset <= .seconds(10) {
                try await clock.waitForSleepers()  // this round's heartbeat and sweep are done
                if try await directory.lookup(user: "kim").isEmpty { goneAt = clock.now.offset }
                clock.advance(by: .milliseconds(100))
            }
            trigger.triggerGracefulShutdown()
            try await run.value
            return try #require(goneAt, "the dead node's presence was never swept")
        }
        #expect(goneAt > Self.ttl, "swept while its lease was still valid")
        #expect(goneAt <= Self.ttl + Self.interval, "swept \(goneAt) after the last heartbeat")
        #expect(try await connection.send(key: keys.nodeConnections("doomed"), ["EXISTS", keys.nodeConnections("doomed")]).integer == 0)
    }

    @Test("topic presence: written and read back with users, restored by its node after a sweep, swept with a dead node, taken along on leave", arguments: Deployment.allCases)
    func topicPresence(deployment: Deployment) async throws {
        let (connection, keys, directory) = try await Self.directory(deployment)
        defer { connection.close() }
        let topics = RedisTopicPresence(redis: connection, keys: keys)
        let ann = PresenceEntry(user: "ann", connection: ConnectionID(nodeID: "live", sequence: 1))
        let bob = PresenceEntry(user: "bob", connection: ConnectionID(nodeID: "live", sequence: 2))
        let kim = PresenceEntry(user: "kim", connection: ConnectionID(nodeID: "doomed", sequence: 1))

        try await topics.join(topic: "room:1", ann)
        try await topics.join(topic: "room:1", bob)
        try await topics.join(topic: "room:2", bob)
        #expect(try await topics.lookup(topic: "room:1", limit: 10) == PresenceLookup(entries: [ann, bob], total: 2))
        #expect(try await topics.lookup(topic: "room:1", limit: 1) == PresenceLookup(entries: [ann], total: 2), "bounded, with the true total")
        try await topics.leave(topic: "room:1", bob)
        #expect(try await topics.lookup(topic: "room:1", limit: 10) == PresenceLookup(entries: [ann], total: 1))

        // A dead node's topic presence goes with its user presence, and the node leaves the index last.
        _ = try await directory.heartbeat(node: "doomed", holder: "doomed-host:8080, pid 1", nowMilliseconds: Self.epoch, ttl: .milliseconds(1))
        try await directory.announce(kim)
        try await topics.join(topic: "room:1", kim)
        try await waitUntil { try await connection.send(key: keys.lease("doomed"), ["EXISTS", keys.lease("doomed")]).integer == 0 }

        let clock = ManualClock()
        let survivor = Self.service("live", directory, clock: clock, ttl: .seconds(600), topics: topics, subscribed: [("room:1", ann), ("room:2", bob)])
        try await testGracefulShutdown { trigger in
            let run = Task { try await survivor.run() }
            try await clock.waitForSleepers()
            // Past the survivor's TTL (long, so that its own lease outlasts a busy machine's real time).
            clock.advance(by: .seconds(600) + Self.interval)
            try await clock.waitForSleepers()
            #expect(try await topics.lookup(topic: "room:1", limit: 10) == PresenceLookup(entries: [ann], total: 1), "kim swept")
            #expect(try await directory.lookup(user: "kim").isEmpty)
            #expect(try await connection.send(key: keys.nodeTopicMembers("doomed"), ["EXISTS", keys.nodeTopicMembers("doomed")]).integer == 0)
            #expect(try await connection.send(key: keys.nodes, ["ZSCORE", keys.nodes, "doomed"]).string == nil)

            // Swept while alive (its lease deleted): the next heartbeat restores what it holds.
            _ = try await connection.send(key: keys.lease("live"), ["DEL", keys.lease("live")])
            #expect(try await topics.sweep(node: "live") == 2)
            #expect(try await topics.lookup(topic: "room:2", limit: 10).total == 0)
            clock.advance(by: Self.interval)
            try await clock.waitForSleepers()
            #expect(try await topics.lookup(topic: "room:2", limit: 10) == PresenceLookup(entries: [bob], total: 1), "restored")
            trigger.triggerGracefulShutdown()
            try await run.value
        }
        #expect(try await topics.lookup(topic: "room:1", limit: 10).total == 0, "taken along when the node left")
        #expect(try await topics.lookup(topic: "room:2", limit: 10).total == 0)
    }

    @Test("a node that leaves on purpose takes its presence, connection set and lease with it", arguments: Deployment.allCases)
    func gracefulLeave(deployment: Deployment) async throws {
        let (connection, keys, directory) = try await Self.directory(deployment)
        defer { connection.close() }
        let ann = PresenceEntry(user: "ann", connection: ConnectionID(nodeID: "leaving", sequence: 7))
        let clock = ManualClock()
        let service = Self.service("leaving", directory, clock: clock, holding: [ann], ttl: .seconds(600))
        try await testGracefulShutdown { trigger in
            let run = Task { try await service.run() }
            try await clock.waitForSleepers()
            // The first round restored what the node holds and took the lease.
            #expect(try await directory.lookup(user: "ann") == [ann])
            #expect(try await connection.send(key: keys.lease("leaving"), ["EXISTS", keys.lease("leaving")]).integer == 1)
            trigger.triggerGracefulShutdown()
            try await run.value
        }
        #expect(try await directory.lookup(user: "ann").isEmpty)
        #expect(try await connection.send(key: keys.lease("leaving"), ["EXISTS", keys.lease("leaving")]).integer == 0)
        #expect(try await connection.send(key: keys.nodes, ["ZSCORE", keys.nodes, "leaving"]).string == nil)
    }

    @Test("a live node swept after a pause past its TTL restores its presence at its next heartbeat", arguments: Deployment.allCases)
    func sweptWhileAlive(deployment: Deployment) async throws {
        let (connection, keys, directory) = try await Self.directory(deployment)
        defer { connection.close() }
        let joe = PresenceEntry(user: "joe", connection: ConnectionID(nodeID: "paused", sequence: 3))
        let clock = ManualClock()
        let service = Self.service("paused", directory, clock: clock, holding: [joe])
        try await testGracefulShutdown { trigger in
            let run = Task { try await service.run() }
            try await clock.waitForSleepers()
            #expect(try await directory.lookup(user: "joe") == [joe])
            // The node stalls past its TTL: its lease expires and another node sweeps it.
            _ = try await connection.send(key: keys.lease("paused"), ["DEL", keys.lease("paused")])
            #expect(try await directory.sweep(node: "paused") == 1)
            #expect(try await directory.lookup(user: "joe").isEmpty)
            clock.advance(by: Self.interval)
            try await clock.waitForSleepers()
            #expect(try await directory.lookup(user: "joe") == [joe], "restored by the heartbeat that found the lease gone")
            trigger.triggerGracefulShutdown()
            try await run.value
        }
    }

    /// What a node holds: `first` when asked the first time, `then` ever after.
    static func first<T: Sendable>(_ first: [T], then: [T]) -> @Sendable () -> [T] {
        let asked = Mutex(false)
        return { asked.withLock { asked in defer { asked = true }; return asked ? then : first } }
    }

    @Test("a restore mends connections that opened or closed while its replace was on its way: one announced before the replace is listed, one withdrawn before it is not", arguments: Deployment.allCases)
    func restoreMendsChangesMidway(deployment: Deployment) async throws {
        let (connection, _, directory) = try await Self.directory(deployment)
        defer { connection.close() }
        let topics = RedisTopicPresence(redis: connection, keys: directory.keys)
        let ann = PresenceEntry(user: "ann", connection: ConnectionID(nodeID: "busy", sequence: 1))
        let bob = PresenceEntry(user: "bob", connection: ConnectionID(nodeID: "busy", sequence: 2))
        let cat = PresenceEntry(user: "cat", connection: ConnectionID(nodeID: "busy", sequence: 3))
        // The snapshot holds ann and bob; then cat opened and announced itself, and bob closed
        // and withdrew itself, both reaching Redis before the replace did.
        let snapshot = [ann, bob]
        let now = [ann, cat]
        try await directory.announce(cat)
        try await topics.join(topic: "room", cat)
        let service = Self.service(
            "busy", directory, clock: ManualClock(), topics: topics, holding: Self.first(snapshot, then: now),
            subscribed: Self.first(snapshot.map { ("room", $0) }, then: now.map { ("room", $0) })
        )
        try await service.restore()
        #expect(try await directory.lookup(user: "cat") == [cat], "opened meanwhile: listed")
        #expect(try await directory.lookup(user: "bob").isEmpty, "closed meanwhile: not listed")
        #expect(try await directory.lookup(user: "ann") == [ann])
        #expect(try await topics.lookup(topic: "room", limit: 10) == PresenceLookup(entries: [ann, cat], total: 2))
    }

    @Test("a presence write that failed is mended by the next heartbeat, though the lease held and the connection stayed", arguments: Deployment.allCases)
    func failedWriteIsMended(deployment: Deployment) async throws {
        let (connection, keys, directory) = try await Self.directory(deployment)
        defer { connection.close() }
        let zed = PresenceEntry(user: "zed", connection: ConnectionID(nodeID: "steady", sequence: 1))
        let clock = ManualClock()
        let holding = Mutex<[PresenceEntry]>([])
        let service = Self.service("steady", directory, clock: clock, ttl: .seconds(600), holding: { holding.withLock { $0 } })
        try await testGracefulShutdown { trigger in
            let run = Task { try await service.run() }
            defer { trigger.triggerGracefulShutdown() }
            try await clock.waitForSleepers()
            // zed connects; its announce fails (Redis refuses the write: the user's key holds a
            // string), so zed is not listed.
            holding.withLock { $0 = [zed] }
            _ = try await connection.send(key: keys.user("zed"), ["SET", keys.user("zed"), "in the way"])
            await #expect(throws: RedisError.self) { try await directory.announce(zed) }
            _ = try await connection.send(key: keys.user("zed"), ["DEL", keys.user("zed")])
            #expect(try await directory.lookup(user: "zed").isEmpty)
            clock.advance(by: Self.interval)
            try await clock.waitForSleepers()
            #expect(try await directory.lookup(user: "zed") == [zed], "written back by the next heartbeat")
            trigger.triggerGracefulShutdown()
            try await run.value
        }
    }

    @Test("a node id whose lease another process keeps renewing is refused, naming that process; a lapsed one is taken", arguments: Deployment.allCases)
    func claimRefusesALiveHolder(deployment: Deployment) async throws {
        let (connection, keys, directory) = try await Self.directory(deployment)
        defer { connection.close() }
        let other = "vm-2:8080, pid 4242, instance abc"
        // Another process holds "twin" and renews it (a lease that does not lapse while the
        // test runs stands for one renewed every interval).
        #expect(try await directory.claim(node: "twin", holder: other, ttl: .seconds(600)) == nil)
        let clock = ManualClock()
        let service = Self.service("twin", directory, clock: clock)
        let claim = Task { try await service.claim() }
        var waited = Duration.zero
        while waited < Self.ttl + Self.interval {  // the claim gives up at ttl + interval
            try await clock.waitForSleepers()
            clock.advance(by: .milliseconds(250))
            waited += .milliseconds(250)
        }
        let error = await #expect(throws: NodeIDInUse.self) { try await claim.value }
        #expect(error?.holder == other)
        #expect("\(error.map { "\($0)" } ?? "")".contains("node id 'twin' is in use by a live node (vm-2:8080, pid 4242"))
        #expect(try await connection.send(key: keys.lease("twin"), ["GET", keys.lease("twin")]).string == other, "the live node's lease is untouched")

        // The other process dies: its lease lapses within the TTL, and the claim that was
        // waiting for that takes the id.
        let next = Task { try await service.claim() }
        try await clock.waitForSleepers()
        _ = try await connection.send(key: keys.lease("twin"), ["DEL", keys.lease("twin")])
        clock.advance(by: .milliseconds(250))
        try await next.value
        #expect(try await connection.send(key: keys.lease("twin"), ["GET", keys.lease("twin")]).string == service.holder)
    }

    @Test("a heartbeat tells a lease it still held from one that lapsed and one another process took; only the holder's leave deletes it", arguments: Deployment.allCases)
    func heartbeatKnowsTheHolder(deployment: Deployment) async throws {
        let (connection, keys, directory) = try await Self.directory(deployment)
        defer { connection.close() }
        let (mine, theirs) = ("host-a:8080, pid 1, instance a", "host-b:8080, pid 1, instance b")
        #expect(try await directory.heartbeat(node: "n", holder: mine, nowMilliseconds: Self.epoch, ttl: .seconds(600)) == .expired)
        #expect(try await directory.heartbeat(node: "n", holder: mine, nowMilliseconds: Self.epoch + 1000, ttl: .seconds(600)) == .renewed)
        _ = try await connection.send(key: keys.lease("n"), ["SET", keys.lease("n"), theirs])
        #expect(try await directory.heartbeat(node: "n", holder: mine, nowMilliseconds: Self.epoch + 2000, ttl: .seconds(600)) == .takenOver(by: theirs))
        try await directory.leave(node: "n", holder: theirs)
        #expect(try await connection.send(key: keys.lease("n"), ["GET", keys.lease("n")]).string == mine, "another holder's leave leaves the lease")
        #expect(try await connection.send(key: keys.nodes, ["ZSCORE", keys.nodes, "n"]).string != nil)
        try await directory.leave(node: "n", holder: mine)
        #expect(try await connection.send(key: keys.lease("n"), ["EXISTS", keys.lease("n")]).integer == 0)
        #expect(try await connection.send(key: keys.nodes, ["ZSCORE", keys.nodes, "n"]).string == nil)
    }
}
