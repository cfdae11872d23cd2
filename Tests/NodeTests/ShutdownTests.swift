import NIOWebSocket
@testable import Node
import Testing

@Suite("Graceful shutdown", .timeLimit(.minutes(2)))
struct ShutdownTests {
    @Test("shutdown closes every client with 1012 after flushing what was queued, then refuses new ones")
    func shutdownClosesWith1012() async throws {
        let node = try await RunningNode.start()
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

    @Test("while draining, a new client is refused with 503 draining, /readyz is 503, and an unknown path is 404")
    func drainingRefusesUpgrades() async throws {
        let node = try await RunningNode.start()
        let unknown = try await HTTPProbe.get(port: node.port, path: "/nowhere")
        #expect(unknown.status == 404)
        #expect((try json(unknown.body)["error"] as? [String: String])?["code"] == "not_found")
        // A client that never reads keeps the drain going for most of its window (3 s).
        let stuck = try await node.connect("stuck", readPaused: true)
        let stopping = Task { try await node.stop() }
        try await waitUntil(timeout: .seconds(10)) { node.node.registry.isDraining }
        let refused = try await HTTPProbe.upgrade(port: node.port, query: "?token=\(try await node.token(for: "late"))")
        #expect(refused.status == 503)
        #expect((try json(refused.body)["error"] as? [String: String])?["code"] == "draining")
        #expect(try await HTTPProbe.get(port: node.port, path: "/readyz").status == 503)
        stuck.resumeReading()
        try await stopping.value
    }

    @Test("a client that never answers the close is dropped when the drain window ends, and the node stops inside it")
    func drainWindowDropsWhoIsLeft() async throws {
        let node = try await RunningNode.start {
            $0.drainWindow = .seconds(3)
            $0.closeTimeout = .seconds(60)
        }
        let stuck = try await node.connect("stuck", readPaused: true)
        let started = ContinuousClock.now
        try await node.stop()
        #expect(ContinuousClock.now - started < .seconds(3), "the node outlived its drain window")
        try await waitUntil(timeout: .milliseconds(500)) { node.node.connectionCount == 0 }
        stuck.resumeReading()
        _ = try await stuck.closed()
    }
}
