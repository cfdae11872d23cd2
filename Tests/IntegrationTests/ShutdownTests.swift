import SwitchboardWire
import Logging
import NIOWebSocket
@testable import Node
import ServiceLifecycle
import Synchronization
import Testing
import NodeTestSupport
import TestSupport
import WSCore

/// Shutdown of a real node. How long the drain takes is proven on virtual time
/// (`ConnectionDrainServiceTests`) and measured by `switchboard bench drain`.
@Suite("Graceful shutdown", .timeLimit(.minutes(2)))
struct ShutdownTests {
    @Test("shutdown closes every client with 1012 after flushing what was queued, then refuses new ones")
    func shutdownClosesWith1012() async throws {
        try await withNode { node in
            let alice = try await node.connect("alice")
            let bob = try await node.connect("bob", format: .protobuf)
            alice.send(#"{"id":"1","send":{"to":"alice","data":"last words"}}"#)
            #expect((try await alice.receiveJSON()["push"] as? [String: Any])?["data"] as? String == "last words")
            _ = try await alice.receiveJSON()

            let stopping = Task { try await node.stop() }
            let aliceClose = try await alice.closed()
            let bobClose = try await bob.closed()
            #expect(aliceClose?.closeCode == WebSocketErrorCode(codeNumber: 1012))
            #expect(bobClose?.closeCode == WebSocketErrorCode(codeNumber: 1012))
            try await stopping.value
            #expect(node.node.connectionCount == 0)
            await #expect(throws: (any Error).self) { _ = try await node.connect("carol") }
        }
    }

    @Test("while draining, a new client is refused with 503 draining, /readyz is 503, and an unknown path is 404")
    func drainingRefusesUpgrades() async throws {
        // A client that never reads holds the drain open (its close is never taken) for as
        // long as the test needs: a window and close timeout no busy machine outlasts.
        try await withNode(configure: {
            $0.drainWindow = .seconds(120)
            $0.closeTimeout = .seconds(100)
        }) { node in
            let unknown = try await HTTPProbe.get(port: node.port, path: "/nowhere")
            #expect(unknown.status == 404)
            #expect((try json(unknown.body)["error"] as? [String: String])?["code"] == "not_found")
            let stuck = try await node.connect("stuck", readPaused: true)
            // It reads no welcome: wait until the node has it in its map before draining.
            try await waitUntil { node.node.connectionCount == 1 }
            let stopping = Task { try await node.stop() }
            try await waitUntil { node.node.session.registry.isDraining }
            let refused = try await HTTPProbe.upgrade(port: node.port, query: "?token=\(try await node.token(for: "late"))")
            #expect(refused.status == 503)
            #expect((try json(refused.body)["error"] as? [String: String])?["code"] == "draining")
            #expect(try await HTTPProbe.get(port: node.port, path: "/readyz").status == 503)
            #expect(node.node.connectionCount == 1, "the drain let the stuck client go before it answered")
            // Reading again, the client takes its 1012 and answers: the drain ends with it.
            stuck.resumeReading()
            #expect(try await stuck.closed()?.closeCode == WebSocketErrorCode(codeNumber: 1012))
            try await stopping.value
        }
    }

    @Test("a client that never answers the close is dropped when the drain window ends, and the node stops")
    func drainWindowDropsWhoIsLeft() async throws {
        try await withNode(configure: {
            $0.drainWindow = .seconds(3)
            $0.closeTimeout = .seconds(600)
        }) { node in
            let stuck = try await node.connect("stuck", readPaused: true)
            try await waitUntil { node.node.connectionCount == 1 }
            // The close timeout outlasts the test's time limit: only the end of the drain
            // window can let the node stop.
            try await node.stop()
            try await waitUntil { node.node.connectionCount == 0 }
            stuck.resumeReading()
            _ = try await stuck.closed()
        }
    }

    @Test("a node whose services are cancelled (what its service group does when a graceful shutdown outlasts the drain window) stops and closes its client and admin ports")
    func cancelledNodeStops() async throws {
        var configuration = NodeConfiguration(nodeID: "cancelled", jwtSecret: RunningNode.secret, pushSecret: RunningNode.pushSecret)
        // Ports handed to this test alone (below the ephemeral range): a port the OS picked
        // could be picked again, once freed, by a node of a test running alongside, and
        // then "still accepts" (seen once in a fresh-clone run).
        configuration.port = try freePort()
        configuration.grpcPort = 0
        configuration.adminPort = try freePort()
        let node = try await GatewayNode(configuration: configuration, logger: Logger(label: "test"))
        let (ports, bound) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(configuration: node.serviceGroupConfiguration(node.services(onListening: { listener, port in
            if listener != .gatewayAPI { bound.yield(port) }
        })))
        let stopped = Mutex(false)
        let run = Task {
            try? await group.run()
            stopped.withLock { $0 = true }
        }
        var listening: [Int] = []
        for await port in ports {
            listening.append(port)
            if listening.count == 2 { break }
        }
        #expect(try await HTTPProbe.get(port: listening[0], path: "/healthz").status == 200)
        // No graceful shutdown: the group cancels every service, as it does when the drain
        // outlasts its window. Each must stop on cancellation alone (a wait on a channel's
        // close that only a graceful shutdown ends would keep the process alive for ever).
        run.cancel()
        try await waitUntil { stopped.withLock { $0 } }
        for port in listening {
            await #expect(throws: (any Error).self, "port \(port) still accepts") { _ = try await HTTPProbe.get(port: port, path: "/healthz") }
        }
    }
}
