import Bench
import Essentials
import Foundation
import NIOWebSocket
import Testing
import NodeTestSupport
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
        let process = ChildProcess.guarded()
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
            let process = ChildProcess.guarded()
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
        let good = try check("log-level = debug   # as docs/configuration.md shows\nnode-id = edge-7\nport = 9000\n")
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("configuration ok") && good.output.contains("log level: debug") && good.output.contains("node id: edge-7"))
        let loud = try check("log-level = loud\n")
        #expect(loud.status != 0 && loud.output.contains("invalid log level 'loud'"), "\(loud.output)")
        let unknown = try check("colour = blue\n")
        #expect(unknown.status != 0 && unknown.output.contains("colour") && unknown.output.contains("is not a node setting"), "\(unknown.output)")
    }

    @Test("switchboard node refuses a missing or short secret with a clear error")
    func badConfiguration() throws {
        let process = ChildProcess.guarded()
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

@Suite("switchboard cluster", .serialized, .tags(.process, .redis), .timeLimit(.minutes(2)))
struct ClusterCommandTests {
    /// A `switchboard cluster` child with `arguments` (and free ports); its output goes to
    /// files, its log quoted when its nodes (at `readyPorts`) are not ready in time.
    /// SIGTERM stops it, and its children, when `body` returns or throws.
    private func withClusterCommand(
        _ arguments: [String], readyPorts: [Int], _ body: (ChildProcess, _ output: String) async throws -> Void
    ) async throws {
        let process = ChildProcess.guarded()
        process.executableURL = ProcessTests.executable
        // As a shell runs a command: in a group of its own, which a terminal's Ctrl-C signals.
        process.ownProcessGroup = true
        let redisPort = arguments.contains("--redis-port") ? [] : ["--redis-port", "\(try freePort())"]
        process.arguments = ["cluster", "--backend-port", "\(try freePort(span: 2))"] + redisPort + arguments
        process.environment = ["SWITCHBOARD_JWT_SECRET": RunningNode.secret, "SWITCHBOARD_PUSH_SECRET": RunningNode.pushSecret]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-cluster-\(readyPorts[0])")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let output = directory.appendingPathComponent("stdout").path
        let log = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_CLUSTER_LOG"] ?? directory.appendingPathComponent("stderr").path
        FileManager.default.createFile(atPath: output, contents: nil)
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: output)
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
                let ready = try? await readyPorts.asyncAllSatisfy { try await HTTPProbe.get(port: $0, path: "/readyz").status == 200 }
                return ready == true
            }
        } catch {
            let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").suffix(30).joined(separator: "\n") ?? ""
            throw TestFailure("the cluster's nodes were not ready within 90 s (\(error)); its log ends:\n\(tail)")
        }
        try await body(process, output)
    }

    @Test("starts Redis, the backends and two nodes that relay to each other; SIGTERM stops them all")
    func localCluster() async throws {
        let base = try freePort(span: 11)
        try await withClusterCommand(["--nodes", "2", "--base-port", "\(base)"], readyPorts: [base, base + 10]) { process, _ in
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

    @Test("SIGKILL to the command: Redis, the backends and the nodes it started die with it")
    func killedOutright() async throws {
        let base = try freePort(span: 1)
        try await withClusterCommand(["--nodes", "1", "--base-port", "\(base)"], readyPorts: [base]) { process, _ in
            let pid = process.processIdentifier
            // Each thread's children: which thread started one is the command's business.
            let children = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").flatMap { task in
                ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? "")
                    .split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
            }
            #expect(children.count == 3, "Redis, the backends and a node: \(children)")
            // Whatever the outcome, nothing outlives this test.
            defer { for child in children { kill(child, SIGKILL) } }
            kill(pid, SIGKILL)
            for child in children {
                try await waitUntil(timeout: .seconds(30)) { kill(child, 0) != 0 && errno == ESRCH }
            }
        }
    }

    @Test("Ctrl-C (SIGINT to the command's process group, as a terminal sends it) reaches only the command: the node drains while Redis runs, then all stop")
    func interrupt() async throws {
        let base = try freePort(span: 1)
        try await withClusterCommand(["--nodes", "1", "--base-port", "\(base)"], readyPorts: [base]) { process, output in
            let alice = try await TestWebSocket.connect(url: "ws://127.0.0.1:\(base)/ws", token: try await RunningNode.token(for: "alice"))
            kill(-process.processIdentifier, SIGINT)
            _ = try await alice.closed(within: .seconds(30))
            try await waitUntil(timeout: .seconds(60)) { !process.isRunning }
            #expect(process.terminationReason == .exit && process.terminationStatus == 0, "ended by \(process.terminationReason) \(process.terminationStatus)")
            let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            // redis-server says so when a signal reaches it; the command stops it with SIGKILL, last.
            #expect(!printed.contains("Received SIGINT"), "Redis was interrupted with the command: \(printed.suffix(2000))")
        }
    }

    @Test("--host 0.0.0.0: the nodes listen on every address; the demo is served without minting tokens, its links carry their users' tokens")
    func remoteHost() async throws {
        let base = try freePort(span: 1)
        try await withClusterCommand(["--nodes", "1", "--base-port", "\(base)", "--host", "0.0.0.0"], readyPorts: [base]) { _, output in
            // The table is read in pages while other tests' sockets come and go, which can skip an entry: poll.
            try await waitUntil(timeout: .seconds(10)) { try Self.listensOnEveryAddress(port: base) }
            #expect(try await HTTPProbe.get(port: base, path: "/demo").status == 200)
            #expect(try await HTTPProbe.get(port: base, path: "/demo/token?user=mallory").status == 404, "no tokens for any name off loopback")
            var printed = ""
            try await waitUntil(timeout: .seconds(30)) {
                printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                return printed.contains("bob:")
            }
            let link = try #require(printed.split(separator: "\n").first { $0.contains("alice: http://") }, "\(printed)")
            #expect(!link.contains("0.0.0.0"), "a wildcard address is no place to connect to: \(link)")
            let token = try #require(link.split(separator: "#token=").last.map(String.init))
            let alice = try await TestWebSocket.connect(url: "ws://127.0.0.1:\(base)/ws", token: token, awaitWelcome: false)
            let welcome = try #require(try await alice.receiveJSON()["welcome"] as? [String: Any])
            #expect(welcome["user"] as? String == "alice")
            try await alice.close()
        }
    }

    @Test("--redis-cluster on ports whose default bus port would be past 65535: the servers get free bus ports and the cluster forms")
    func redisClusterHighPorts() async throws {
        let base = try freePort(span: 1)
        // Above the ephemeral range, so that no client socket takes them meanwhile.
        let redis = try #require(LoopbackPort.free(in: 61_000..<65_000, span: 5))
        try await withClusterCommand(
            ["--nodes", "1", "--base-port", "\(base)", "--redis-cluster", "3", "--redis-port", "\(redis)"], readyPorts: [base]
        ) { _, _ in
            let alice = try await TestWebSocket.connect(url: "ws://127.0.0.1:\(base)/ws", token: try await RunningNode.token(for: "alice"))
            alice.send(#"{"id":"1","ping":{}}"#)
            #expect((try await alice.receiveJSON()["ok"] as? [String: Any])?["node"] as? String == "node-1")
            try await alice.close()
        }
    }

    @Test("--host off loopback with --dev true is refused, saying why")
    func devOffLoopback() async throws {
        let process = ChildProcess.guarded()
        process.executableURL = ProcessTests.executable
        process.arguments = ["cluster", "--host", "0.0.0.0", "--dev", "true", "--base-port", "\(try freePort())"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: await errors.readToEnd(), as: UTF8.self)
        try await waitUntil(timeout: .seconds(30)) { !process.isRunning }
        #expect(process.terminationStatus != 0)
        #expect(message.contains("loopback") && message.contains("demo links"), "\(message)")
    }

    /// Whether /proc/net/tcp lists a listening socket on 0.0.0.0:`port` (read as the load
    /// generator reads it, `ProcFile`).
    static func listensOnEveryAddress(port: Int) throws -> Bool {
        let table = try #require(ProcFile.read("/proc/net/tcp"))
        let local = "00000000:" + String(format: "%04X", port)
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1] == local && fields[3] == "0A"
        }
    }
}

extension Array {
    func asyncAllSatisfy(_ predicate: (Element) async throws -> Bool) async rethrows -> Bool {
        for element in self where try await !predicate(element) { return false }
        return true
    }
}
