import Foundation
import Synchronization
@testable import SwitchboardClient
import Testing
import NodeTestSupport
import TestSupport

/// The client reads a refused upgrade's answer to say why; a server that is not a node
/// (or a hostile one) can neither make it read without bound nor hold it forever.
@Suite("Reading an upgrade refusal", .timeLimit(.minutes(2)))
struct UpgradeRefusalTests {
    /// A one-connection-at-a-time HTTP server in Python: `mode` "huge" answers 401 with a
    /// 64 MiB body, "stall" sends the status line and headers, then nothing, "forbidden"
    /// refuses as a node refuses a page from an origin it does not allow (403).
    private func withServer(_ mode: String, _ body: (Int) async throws -> Void) async throws {
        let port = try freePort()
        let script = """
        import socket, sys, time
        server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", \(port))); server.listen(8)
        print("ready", flush=True)
        while True:
            connection, _ = server.accept()
            try:
                if not connection.recv(65536): raise OSError()
                if "\(mode)" == "forbidden":
                    body = b'{"error":{"code":"origin_not_allowed","message":"pages from elsewhere may not connect here"}}'
                    connection.sendall(b"HTTP/1.1 403 Forbidden\\r\\nContent-Type: application/json\\r\\nConnection: close\\r\\nContent-Length: " + str(len(body)).encode() + b"\\r\\n\\r\\n" + body)
                elif "\(mode)" == "huge":
                    connection.sendall(b"HTTP/1.1 401 Unauthorized\\r\\nContent-Length: 67108864\\r\\n\\r\\n")
                    chunk = b"x" * 65536
                    for _ in range(1024): connection.sendall(chunk)
                else:
                    connection.sendall(b"HTTP/1.1 401 Unauthorized\\r\\nContent-Length: 100\\r\\n\\r\\n")
                    time.sleep(600)
            except OSError:
                pass
            connection.close()
        """
        try await withPythonServer(port: port, script: script) { try await body(port) }
    }

    @Test("a huge refusal body is read only up to its bound")
    func hugeBody() async throws {
        try await withServer("huge") { port in
            let refusal = try #require(await UpgradeRefusal.probe(url: "ws://127.0.0.1:\(port)/ws", token: "t", tls: nil))
            #expect(refusal.status == 401)
            #expect(refusal.message.utf8.count == UpgradeRefusal.maxBodyBytes)
        }
    }

    @Test("a server that stops mid-answer does not hold the probe: it gives up at its deadline")
    func stalledBody() async throws {
        try await withServer("stall") { port in
            #expect(await UpgradeRefusal.probe(url: "ws://127.0.0.1:\(port)/ws", token: "t", tls: nil, timeout: .milliseconds(300)) == nil)
        }
    }

    @Test("refused for what it is (403), the client stops for good instead of retrying")
    func forbiddenStops() async throws {
        try await withServer("forbidden") { port in
            var configuration = SwitchboardClientConfiguration(urls: ["ws://127.0.0.1:\(port)/ws"], token: .fixed("t"))
            configuration.backoff = Backoff(base: .milliseconds(10), maximum: .milliseconds(20))
            let client = SwitchboardClient(configuration: configuration)
            let states = Mutex<[StateChange]>([])
            let watcher = Task { for await change in client.stateChanges { states.withLock { $0.append(change) } } }
            try await client.run()  // returns: the client stopped
            await watcher.value
            #expect(client.state == .closed)
            #expect(states.withLock { $0.last?.code } == 403)
            #expect(!states.withLock { $0.contains { $0.state == .reconnecting } }, "no retry")
            do {
                try await client.connected()
                Issue.record("connected")
            } catch let error as SwitchboardClientError {
                #expect(error.code == "origin_not_allowed")
            }
        }
    }
}
