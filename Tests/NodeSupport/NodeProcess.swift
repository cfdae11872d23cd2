package import TestSupport
import Essentials
import Foundation

/// A `switchboard node` process, as deployed: the binary `swift test` built, its own
/// ports, the test secrets. Prefer `withNodeProcesses`, which kills them even when the
/// test fails.
package final class NodeProcess: @unchecked Sendable {
    package let port: Int
    package let grpcPort: Int
    package let nodeID: String
    private let process: ChildProcess

    /// The `switchboard` binary next to the test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("switchboard")
    }

    package var url: String { "ws://127.0.0.1:\(port)/ws" }
    package var pid: Int32 { process.processIdentifier }

    private init(port: Int, grpcPort: Int, nodeID: String, process: ChildProcess) {
        self.port = port
        self.grpcPort = grpcPort
        self.nodeID = nodeID
        self.process = process
    }

    /// Starts a node and waits until `/readyz` answers 200.
    package static func start(nodeID: String, redis: RedisServer?, prefix: String, arguments: [String] = []) async throws -> NodeProcess {
        let port = try freePort(), grpcPort = try freePort()
        let process = ChildProcess.guarded()
        process.executableURL = executable
        process.arguments = ["node", "--port", "\(port)", "--grpc-port", "\(grpcPort)", "--node-id", nodeID, "--log-level", "error", "--redis-prefix", prefix]
            + (redis.map { ["--redis", $0.url] } ?? []) + arguments
            // A Redis reply later than the 2 s default is a busy machine here, not a hung Redis.
            + (arguments.contains("--redis-timeout") ? [] : ["--redis-timeout", "60"])
        process.environment = ["SWITCHBOARD_JWT_SECRET": RunningNode.secret, "SWITCHBOARD_PUSH_SECRET": RunningNode.pushSecret]
        process.standardOutput = FileHandle.nullDevice
        // Its errors go to a file, not to the test's stderr: a child holding that pipe open
        // would keep `swift test` waiting forever after a crash of the test process.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-\(nodeID)-\(port).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let errors = try FileHandle(forWritingTo: log)
        process.standardError = errors
        // The node has its own copy once started; ours would be one descriptor per node.
        defer { try? errors.close() }
        try process.run()
        let node = NodeProcess(port: port, grpcPort: grpcPort, nodeID: nodeID, process: process)
        do {
            try await waitUntil(timeout: .seconds(60)) {
                guard process.isRunning else {
                    let tail = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").suffix(5).joined(separator: "\n") ?? ""
                    throw TestFailure("switchboard node \(nodeID) exited with \(process.terminationStatus):\n\(tail)")
                }
                return (try? await HTTPProbe.get(port: port, path: "/readyz"))?.status == 200
            }
        } catch {
            await node.kill()
            throw error
        }
        return node
    }

    /// Resident memory in KiB, from /proc.
    package func residentKiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw TestFailure("no VmRSS for \(pid)") }
        return kib
    }

    package var isRunning: Bool { process.isRunning }

    package func connect(_ user: String, readPaused: Bool = false) async throws -> TestWebSocket {
        try await TestWebSocket.connect(url: url, token: RunningNode.token(for: user), readPaused: readPaused)
    }

    /// SIGSTOP: the node keeps its sockets but answers nothing. Returns once the kernel
    /// reports every thread stopped.
    package func suspend() throws {
        Foundation.kill(pid, SIGSTOP)
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while ContinuousClock.now < deadline {
            let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
            let stopped = tasks.allSatisfy { task in
                // A thread that ended meanwhile has no stat: it runs no more either.
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8) else { return true }
                return stat.split(separator: ")").last?.split(separator: " ").first == "T"
            }
            if stopped { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw TestFailure("node \(nodeID) did not stop")
    }

    /// SIGCONT after `suspend()`.
    package func resume() {
        Foundation.kill(pid, SIGCONT)
    }

    /// SIGTERM (after SIGCONT, if suspended), then SIGKILL if it has not exited within
    /// 10 s; returns once it has exited, without blocking a thread of the cooperative pool.
    package func kill() async {
        if process.isRunning { Foundation.kill(pid, SIGCONT) }
        await process.stop(grace: .seconds(10))
    }
}

/// Runs `body` with `count` node processes sharing `redis` under a fresh prefix; they
/// are killed when it returns or throws.
package func withNodeProcesses<Result>(
    _ count: Int, redis: RedisServer?, arguments: [String] = [], _ body: ([NodeProcess]) async throws -> Result
) async throws -> Result {
    let prefix = "p\(UInt32.random(in: 0...UInt32.max)):"
    var nodes: [NodeProcess] = []
    do {
        for index in 1...count {
            nodes.append(try await NodeProcess.start(nodeID: "proc-\(index)", redis: redis, prefix: prefix, arguments: arguments))
        }
        let result = try await body(nodes)
        for node in nodes { await node.kill() }
        return result
    } catch {
        for node in nodes { await node.kill() }
        throw error
    }
}
