import Identity
import SwitchboardProtocol
import Logging
import NIOCore
import NIOEmbedded
@testable import Node
import Presence
import Synchronization
import Testing

/// The sharded connection map: lookups by user and by id, and a drain that races adds.
@Suite("Connection registry")
struct ConnectionRegistryTests {
    private static let metrics = NodeMetrics(nodeID: "n", clustered: false)

    private static func connection(_ sequence: UInt64, user: String) -> ClientConnection {
        let channel = EmbeddedChannel()
        return ClientConnection(
            id: ConnectionID(nodeID: "n", sequence: sequence), user: user, format: .json,
            queue: OutboundQueue(maxMessages: 8, maxBytes: 1024) {}, pumpSlot: PumpSlot(eventLoop: channel.eventLoop), channel: channel,
            metrics: Self.metrics, logger: Logger(label: "registry-test")
        )
    }

    @Test("connections are found by user and by id across shards, and leave without a trace")
    func lookups() {
        let registry = ConnectionRegistry()
        let connections = (0..<1000).map { Self.connection(UInt64($0), user: "user-\($0 % 400)") }
        for connection in connections { #expect(registry.add(connection)) }
        #expect(registry.count == 1000)
        #expect(registry.all().count == 1000)
        #expect(registry.connections(of: "user-7").count == 3, "user-7, -407 and -807")
        #expect(registry.count(of: "user-399") == 2)
        #expect(registry.connection(ConnectionID(nodeID: "n", sequence: 512)) === connections[512])
        for connection in connections where connection.user == "user-7" { #expect(registry.remove(connection)) }
        #expect(!registry.holds(user: "user-7"))
        #expect(!registry.remove(connections[7]), "removed once only")
        #expect(registry.connection(connections[7].id) == nil)
        #expect(registry.count == 997)
    }

    @Test("a drain that starts while connections are being added sees every one it let in", arguments: 0..<5)
    func drainRacesAdds(round: Int) async {
        let registry = ConnectionRegistry()
        final class Admitted: Sendable { let ids = Mutex<[ObjectIdentifier]>([]) }
        let admitted = Admitted()
        let drained = await withTaskGroup(of: [ClientConnection]?.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for n in 0..<2000 {
                        let connection = Self.connection(UInt64(worker * 10_000 + n), user: "u\(worker)-\(n)")
                        if registry.add(connection) { admitted.ids.withLock { $0.append(ObjectIdentifier(connection)) } }
                    }
                    return nil
                }
            }
            group.addTask {
                await Task.yield()
                return registry.startDraining()
            }
            var drained: [ClientConnection] = []
            for await result in group { if let result { drained = result } }
            return drained
        }
        #expect(registry.isDraining)
        let seen = Set(drained.map { ObjectIdentifier($0) })
        let admittedSet = Set(admitted.ids.withLock { $0 })
        #expect(seen == admittedSet, "every connection let in is in the drain's list, and no other")
        #expect(!registry.add(Self.connection(99_999, user: "late")), "nothing joins a draining node")
    }
}
