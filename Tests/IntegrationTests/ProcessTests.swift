import Foundation
import NIOWebSocket
import Testing
import TestSupport
import WSCore

@Suite("The switchboard executable", .tags(.process), .timeLimit(.minutes(2)))
struct ProcessTests {
    /// The `switchboard` binary that `swift test` built next to the test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("switchboard")
    }

    @Test("switchboard node closes its clients with 1012 on SIGTERM and exits 0")
    func sigterm() async throws {
        let port = try freePort()
        let process = ChildProcess()
        process.executableURL = Self.executable
        process.arguments = ["node", "--port", "\(port)", "--grpc-port", "0", "--node-id", "proc-1", "--log-level", "warning", "--drain-window", "2"]
        process.environment = ["SWITCHBOARD_JWT_SECRET": RunningNode.secret, "SWITCHBOARD_PUSH_SECRET": RunningNode.pushSecret]
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let token = try await RunningNode.token(for: "alice")
        var client: TestWebSocket?
        try await waitUntil(timeout: .seconds(60)) {
            client = try? await TestWebSocket.connect(url: "ws://127.0.0.1:\(port)/ws", token: token)
            return client != nil
        }
        let alice = try #require(client)
        alice.send(#"{"id":"1","ping":{}}"#)
        #expect((try await alice.receiveJSON()["ok"] as? [String: Any])?["node"] as? String == "proc-1")

        kill(process.processIdentifier, SIGTERM)
        #expect(try await alice.closed()?.closeCode == WebSocketErrorCode(codeNumber: 1012))
        try await waitUntil { !process.isRunning }
        #expect(process.terminationStatus == 0)
    }

    @Test("switchboard node refuses a missing or short secret with a clear error")
    func badConfiguration() throws {
        let process = ChildProcess()
        process.executableURL = Self.executable
        process.arguments = ["node", "--port", "0"]
        process.environment = ["SWITCHBOARD_JWT_SECRET": "short"]
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(output.contains("jwt-secret"))
    }
}

@Suite("switchboard cluster", .tags(.process, .redis), .timeLimit(.minutes(2)))
struct ClusterCommandTests {
    @Test("starts Redis, the backends and two nodes that relay to each other; SIGTERM stops them all")
    func localCluster() async throws {
        let base = try freePort(span: 11)
        let process = ChildProcess()
        process.executableURL = ProcessTests.executable
        process.arguments = [
            "cluster", "--nodes", "2", "--base-port", "\(base)", "--redis-port", "\(try freePort())", "--backend-port", "\(try freePort(span: 2))",
        ]
        process.environment = ["SWITCHBOARD_JWT_SECRET": RunningNode.secret, "SWITCHBOARD_PUSH_SECRET": RunningNode.pushSecret]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        if let log = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_CLUSTER_LOG"] {
            FileManager.default.createFile(atPath: log, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: log)
        }
        try process.run()
        defer {
            // SIGTERM, so that the cluster stops its children too.
            if process.isRunning {
                kill(process.processIdentifier, SIGTERM)
                process.waitUntilExit()
            }
        }

        try await waitUntil(timeout: .seconds(90)) {  // a busy machine starts five processes slowly
            let ready = try? await [base, base + 10].asyncAllSatisfy { try await HTTPProbe.get(port: $0, path: "/readyz").status == 200 }
            return ready == true
        }
        let alice = try await TestWebSocket.connect(url: "ws://127.0.0.1:\(base)/ws", token: try await RunningNode.token(for: "alice"))
        let bob = try await TestWebSocket.connect(url: "ws://127.0.0.1:\(base + 10)/ws", token: try await RunningNode.token(for: "bob"))
        // The backends may still be starting: retry until chat answers.
        try await waitUntil(timeout: .seconds(60)) {
            alice.send(#"{"id":"1","call":"chat.send","data":{"to":"bob","text":"through the cluster"}}"#)
            return (try await alice.receiveJSON()["ok"] as? [String: Any])?["delivered"] as? Bool == true
        }
        let push = try #require(try await bob.receiveJSON()["push"] as? [String: Any])
        #expect((push["data"] as? [String: Any])?["text"] as? String == "through the cluster")

        kill(process.processIdentifier, SIGTERM)
        _ = try await alice.closed(within: .seconds(15))
        try await waitUntil(timeout: .seconds(60)) { !process.isRunning }
        #expect(process.terminationStatus == 0)
    }
}

extension Array {
    func asyncAllSatisfy(_ predicate: (Element) async throws -> Bool) async rethrows -> Bool {
        for element in self where try await !predicate(element) { return false }
        return true
    }
}
