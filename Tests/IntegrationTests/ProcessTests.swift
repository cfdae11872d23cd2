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

    @Test("a config file sets the log level like any setting; --check-config says what the node would run with, or names the bad line")
    func configFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("node-\(UInt32.random(in: 0...UInt32.max)).conf")
        defer { try? FileManager.default.removeItem(at: file) }
        func check(_ text: String) throws -> (status: Int32, output: String) {
            try text.write(to: file, atomically: true, encoding: .utf8)
            let process = ChildProcess()
            process.executableURL = Self.executable
            process.arguments = ["node", "--config", file.path, "--check-config"]
            process.environment = ["SWITCHBOARD_JWT_SECRET": RunningNode.secret, "SWITCHBOARD_PUSH_SECRET": RunningNode.pushSecret]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        let good = try check("log-level = debug   # as the README shows\nnode-id = edge-7\nport = 9000\n")
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("configuration ok") && good.output.contains("log level: debug") && good.output.contains("node id: edge-7"))
        let loud = try check("log-level = loud\n")
        #expect(loud.status != 0 && loud.output.contains("invalid log level 'loud'"), "\(loud.output)")
        let unknown = try check("colour = blue\n")
        #expect(unknown.status != 0 && unknown.output.contains("colour") && unknown.output.contains("is not a node setting"), "\(unknown.output)")
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
        // Its log goes to a file (not the test's pipes), quoted when the cluster does not come up.
        let log = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_CLUSTER_LOG"]
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-cluster-\(base).log").path
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        defer {
            // SIGTERM, so that the cluster stops its children too.
            if process.isRunning {
                kill(process.processIdentifier, SIGTERM)
                process.waitUntilExit()
            }
        }

        do {
            try await waitUntil(timeout: .seconds(90)) {  // a busy machine starts five processes slowly
                let ready = try? await [base, base + 10].asyncAllSatisfy { try await HTTPProbe.get(port: $0, path: "/readyz").status == 200 }
                return ready == true
            }
        } catch {
            let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").suffix(30).joined(separator: "\n") ?? ""
            throw TestFailure("the cluster's nodes were not ready within 90 s (\(error)); its log ends:\n\(tail)")
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
