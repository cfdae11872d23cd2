import Essentials
import Foundation
import RedisClient
import Testing
import NodeTestSupport
import TestSupport

/// `switchboard bench` as a user runs it: a node process, the generator's processes, and
/// the limits of this machine stated clearly.
@Suite("switchboard bench, run as a command", .tags(.process, .redis, .slow), .serialized, .timeLimit(.minutes(2)))
struct BenchProcessTests {
    private static var environment: [String: String] {
        ["SWITCHBOARD_JWT_SECRET": RunningNode.secret, "SWITCHBOARD_PUSH_SECRET": RunningNode.pushSecret]
    }

    /// Runs `switchboard` (through `sh -c` when `shell` is given, for `ulimit`) and returns
    /// its exit status and what it printed.
    private static func run(_ arguments: [String], shell prefix: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = ChildProcess.guarded()
        if let prefix {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            let command = ([ProcessTests.executable.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
            process.arguments = ["-c", "\(prefix); exec \(command)"]
        } else {
            process.executableURL = ProcessTests.executable
            process.arguments = arguments
        }
        process.environment = environment
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        async let out = stdout.readToEnd()
        async let err = stderr.readToEnd()
        let (outData, errData) = await (out, err)
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test("idle over two generator processes and two source addresses reads the node's memory")
    func idleAcrossProcesses() async throws {
        try await withNode { node in
            let result = try await Self.run([
                "bench", "idle", "--urls", node.url, "--connections", "40", "--processes", "2", "--sources", "2", "--settle", "0.2",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("40 idle connections from 2 process(es)"))
            #expect(result.stdout.contains("pid \(ProcessInfo.processInfo.processIdentifier)"))
        }
    }

    @Test("send writes a JSON result file and an SVG chart, and names same-node and cross-node runs")
    func sendResultFiles() async throws {
        try await withNode { node in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let json = directory.appendingPathComponent("send.json").path, svg = directory.appendingPathComponent("send.svg").path
            let result = try await Self.run([
                "bench", "send", "--urls", node.url, "--clients", "6", "--messages", "120", "--runs", "2", "--output", json, "--chart", svg,
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let runs = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [[String: Any]])
            #expect(runs.count == 2)
            #expect((runs.first?["tally"] as? [String: Any])?["delivered"] as? Int == 120)
            #expect((runs.first?["latency"] as? [String: Any])?["p99"] != nil)
            #expect(try String(contentsOfFile: svg, encoding: .utf8).contains("<polyline"))
        }
    }

    @Test("more connections than the open-file limit: a clear error, before any connect")
    func fileLimit() async throws {
        let result = try await Self.run(
            ["bench", "idle", "--urls", "ws://127.0.0.1:9/ws", "--connections", "500"], shell: "ulimit -n 200"
        )
        #expect(result.status != 0)
        #expect(result.stderr.contains("need 756 open files but this process may have at most 200"), "\(result.stderr)")
        #expect(result.stderr.contains("--processes") || result.stderr.contains("fewer connections per process"))
    }

    @Test("a node at its open-file limit refuses clients with a clear reason, and the generator shows it")
    func nodeFileLimit() async throws {
        let port = try freePort()
        let node = ChildProcess.guarded()
        node.executableURL = URL(fileURLWithPath: "/bin/sh")
        node.arguments = ["-c", "ulimit -n 300; exec '\(ProcessTests.executable.path)' node --port \(port) --grpc-port 0 --node-id lim-1"]
        node.environment = Self.environment
        let log = Pipe()
        node.standardError = log
        node.standardOutput = log
        try node.run()
        defer { if node.isRunning { node.terminate() } }
        async let logged = log.readToEnd()
        try await waitUntil(timeout: .seconds(60)) { (try? await HTTPProbe.get(port: port, path: "/healthz"))?.status == 200 }
        let result = try await Self.run(["bench", "idle", "--urls", "ws://127.0.0.1:\(port)/ws", "--connections", "60", "--settle", "0.2"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("44 of 60 clients connected"), "\(result.stderr)")
        #expect(result.stderr.contains("HTTP 503"))
        #expect(result.stderr.contains("maximum of 44 connections"))
        node.terminate()
        let output = String(decoding: await logged, as: UTF8.self)
        #expect(output.contains("max-connections=44"))
        #expect(output.contains("open-file-limit=300"))
        #expect(output.contains("connection refused: node full"))
    }

    @Test("the bare-NIO baseline server holds idle connections that bench idle can measure")
    func baselineServer() async throws {
        let port = try freePort()
        let server = ChildProcess.guarded()
        server.executableURL = ProcessTests.executable
        server.arguments = ["bench", "baseline-server", "--port", "\(port)"]
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        try await waitUntil(timeout: .seconds(60)) {
            (try? await Self.run(["bench", "connect", "--urls", "ws://127.0.0.1:\(port)/ws", "--connections", "1", "--concurrency", "1"]))?.status == 0
        }
        let result = try await Self.run([
            "bench", "idle", "--urls", "ws://127.0.0.1:\(port)/ws", "--connections", "30", "--settle", "0.2",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("30 idle connections"))
        #expect(result.stdout.contains("pid \(server.processIdentifier)"))
    }

    @Test("cross-node sends against one node are refused with a clear error")
    func crossNodeNeedsTwoNodes() async throws {
        let result = try await Self.run(["bench", "send", "--urls", "ws://127.0.0.1:9/ws", "--cross-node", "1"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("cross-node sends need at least two node URLs"), "\(result.stderr)")
    }

    @Test("drain SIGTERMs a node process and reconnects every client it closes with 1012 to another node")
    func drainReconnectsEveryClient() async throws {
        try await withCluster(nodes: 1) { cluster in
            let port = try freePort()
            let process = ChildProcess.guarded()
            process.executableURL = ProcessTests.executable
            process.arguments = [
                "node", "--node-id", "leaving", "--port", "\(port)", "--grpc-port", "0", "--redis", cluster.redis.endpoint.description,
                "--redis-prefix", cluster.prefix, "--drain-window", "1", "--log-level", "warning",
            ]
            process.environment = Self.environment
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            try await waitUntil(timeout: .seconds(60)) { (try? await HTTPProbe.get(port: port, path: "/readyz").status) == 200 }

            let result = try await Self.run(["bench", "drain", "--urls", "ws://127.0.0.1:\(port)/ws", cluster.nodes[0].url, "--clients", "60"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("60/60 reconnected"), "\(result.stdout)")
            #expect(!process.isRunning)
            #expect(process.terminationStatus == 0)
            // The generator has exited since; the other node counts the reconnections.
            let metrics = try await HTTPProbe.get(port: cluster.nodes[0].port, path: "/metrics").body
            #expect(metrics.contains(#"switchboard_connections_opened_total{node="node-1"} 60"#))
        }
    }
}
