import NIOWebSocket
import Testing

@Suite("Graceful shutdown", .timeLimit(.minutes(2)))
struct ShutdownTests {
    @Test("shutdown closes every client with 1001 after flushing what was queued, then refuses new ones")
    func shutdownClosesWith1001() async throws {
        let node = try await RunningNode.start()
        let alice = try await node.connect("alice")
        let bob = try await node.connect("bob", format: .protobuf)
        alice.send(#"{"id":"1","send":{"to":"alice","data":"last words"}}"#)
        #expect((try await alice.receiveJSON()["push"] as? [String: Any])?["data"] as? String == "last words")
        _ = try await alice.receiveJSON()

        let stopping = Task { try await node.stop() }
        let aliceClose = try await alice.closed()
        let bobClose = try await bob.closed()
        #expect(aliceClose?.closeCode == .goingAway)
        #expect(bobClose?.closeCode == .goingAway)
        try await stopping.value
        #expect(node.node.connectionCount == 0)
        await #expect(throws: (any Error).self) { _ = try await node.connect("carol") }
    }
}
