import Identity
import SwitchboardProtocol
import Logging
import NIOCore
import NIOEmbedded
@testable import Node
import Presence
import Routing
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing
import NodeTestSupport
import TestSupport

/// The paced drain on virtual time: when each connection is told to close, when the
/// stragglers are dropped, and when the service is done, exactly.
@Suite("Connection drain on virtual time")
struct ConnectionDrainServiceTests {
    /// Connections in a node's map whose close (the queue's shutdown ending) is timed on
    /// the test clock; all but `stuck` then leave at once, as clients that answer do.
    final class Fleet: Sendable {
        let closes = CloseTimes()
        let connections: [ClientConnection]
        let stuck: Set<ConnectionID>

        init(services: SessionServices, count: Int, stuck: Int, clock: ManualClock) {
            let metrics = services.metrics
            let pending = Mutex<[ConnectionID: ClientConnection]>([:])
            let closes = self.closes
            var connections: [ClientConnection] = []
            var stuckIDs = Set<ConnectionID>()
            for n in 0..<count {
                let id = ConnectionID(nodeID: services.configuration.nodeID, sequence: UInt64(n + 1))
                let staysStuck = n < stuck
                if staysStuck { stuckIDs.insert(id) }
                let queue = OutboundQueue(maxMessages: 8, maxBytes: 1024) {
                    closes.times.withLock { $0[id] = clock.now.offset }
                    if !staysStuck, let connection = pending.withLock({ $0.removeValue(forKey: id) }) {
                        services.registry.remove(connection)
                    }
                }
                let channel = NIOAsyncTestingChannel()
                let connection = ClientConnection(
                    id: id, user: "user-\(n)", format: .json, queue: queue, pumpSlot: PumpSlot(eventLoop: channel.eventLoop),
                    channel: channel, metrics: metrics, logger: Logger(label: "drain-test")
                )
                pending.withLock { $0[id] = connection }
                _ = services.registry.add(connection)
                connections.append(connection)
            }
            self.connections = connections
            self.stuck = stuckIDs
        }
    }

    /// When each connection was told to close, on the test clock.
    final class CloseTimes: Sendable {
        let times = Mutex<[ConnectionID: Duration]>([:])
    }

    /// Set once the service under test has returned.
    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        var isSet: Bool { value.load(ordering: .acquiring) }
        func set() { value.store(true, ordering: .releasing) }
    }

    /// Runs the drain service on `clock` through a graceful shutdown, moving time in
    /// `tick`s whenever it sleeps; the virtual time at which it returned.
    private func drain(_ services: SessionServices, clock: ManualClock, tick: Duration = .milliseconds(10)) async throws -> Duration {
        let finished = Flag()
        return try await testGracefulShutdown { trigger in
            let service = ConnectionDrainService(registry: services.registry, window: services.configuration.drainWindow, logger: services.logger, clock: clock)
            let run = Task {
                try await service.run()
                finished.set()
                return clock.now.offset
            }
            trigger.triggerGracefulShutdown()
            while !finished.isSet {
                try await waitUntil { clock.sleeperCount > 0 || finished.isSet }
                if clock.sleeperCount > 0 { clock.advance(by: tick) }
            }
            return try await run.value
        }
    }

    @Test("1,000 connections over a 4 s window: closed in batches every 50 ms over the first 3 s, none before its turn, then the drain ends")
    func pacing() async throws {
        let services = try await makeTestServices { $0.drainWindow = .seconds(4) }
        let clock = ManualClock()
        let fleet = Fleet(services: services, count: 1000, stuck: 0, clock: clock)
        let ended = try await drain(services, clock: clock)

        let times = fleet.closes.times.withLock { $0 }
        #expect(times.count == 1000, "every connection was told to close")
        // 60 steps of 50 ms in 3 s: batches of ⌈1000 / 60⌉ = 17.
        let batches = Dictionary(grouping: times.values, by: { $0 })
        #expect(batches.keys.allSatisfy { $0 <= .seconds(3) }, "a close after three quarters of the window")
        #expect(batches.values.allSatisfy { $0.count <= 17 }, "a batch larger than its share")
        #expect(batches.keys.allSatisfy { $0 == .milliseconds(50) * Int($0 / .milliseconds(50)) }, "a batch off the 50 ms steps")
        #expect(batches.count == 59, "1,000 closes in batches of 17 take 59 steps")
        #expect(times.values.min() == .zero)
        #expect(times.values.max() == .milliseconds(50 * 58))
        // Everyone left as soon as asked: the drain is over at its last batch.
        #expect(ended == .milliseconds(50 * 58))
        #expect(services.registry.count == 0)
        #expect(!services.readiness.isReady, "a drained node must not report ready")
    }

    @Test("a client that never answers is dropped at 85% of the window, and the drain ends there, inside the window")
    func stragglersAreDropped() async throws {
        let services = try await makeTestServices { $0.drainWindow = .seconds(2) }
        let clock = ManualClock()
        let fleet = Fleet(services: services, count: 10, stuck: 2, clock: clock)
        let ended = try await drain(services, clock: clock)

        #expect(ended == .milliseconds(1700), "85% of a 2 s window")
        // The drop marks a connection before closing its socket; nobody else marks these.
        for connection in fleet.connections {
            let dropped = connection.reason == .shutdown
            #expect(dropped == fleet.stuck.contains(connection.id), "\(connection.id) dropped: \(dropped)")
        }
    }

    @Test("a node with no connections drains at once")
    func emptyNode() async throws {
        let services = try await makeTestServices()
        #expect(try await drain(services, clock: ManualClock()) == .zero)
    }
}
