import Essentials
import RedisBackplane
import Foundation
import Testing
import NodeTestSupport
import TestSupport

/// Two nodes must never share an id: presence, leases and connection ids would merge
/// without a sign. How long a claim waits for a lapsing lease is proven on virtual time
/// (`NodeLeaseServiceTests`); here what an operator sees, with real processes and Redis.
@Suite("Node ids in a cluster", .tags(.redis, .process), .timeLimit(.minutes(2)))
struct NodeIDTests {
    @Test("a node given a live node's id refuses to start, naming that node's address; once that node is killed the id is free after its lease lapses")
    func duplicateIDIsRefused() async throws {
        let redis = try await RedisServer.shared()
        let prefix = "id\(UInt32.random(in: 0...UInt32.max)):"
        let first = try await NodeProcess.start(nodeID: "twin", redis: redis, prefix: prefix)
        var replacement: NodeProcess?
        do {
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-twin-\(UInt32.random(in: 0...UInt32.max)).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: log) }
            let second = ChildProcess.guarded()
            second.executableURL = ProcessTests.executable
            second.arguments = [
                "node", "--port", "\(try freePort())", "--grpc-port", "0", "--node-id", "twin", "--log-level", "error",
                "--redis", redis.url, "--redis-prefix", prefix, "--redis-timeout", "60",
            ]
            second.environment = ["SWITCHBOARD_JWT_SECRET": RunningNode.secret, "SWITCHBOARD_PUSH_SECRET": RunningNode.pushSecret]
            second.standardOutput = FileHandle.nullDevice
            second.standardError = try FileHandle(forWritingTo: log)
            try second.run()
            let exited = await second.exit(within: .seconds(60))
            if !exited { await second.stop() }
            #expect(exited, "a node with a live node's id kept running")
            #expect(second.terminationStatus != 0)
            let message = try String(contentsOf: log, encoding: .utf8)
            #expect(message.contains("node id 'twin' is in use by a live node (127.0.0.1:\(first.port), pid \(first.pid)"), "\(message)")

            // The first is still the one serving the id.
            let kim = try await first.connect("kim")
            kim.send(#"{"id":"p","presence":{"user":"kim"}}"#)
            let connections = (try await kim.receiveJSON()["ok"] as? [String: Any])?["connections"] as? [[String: String]]
            #expect(connections?.map { $0["node"] } == ["twin"])

            // Killed, it cannot give its lease back: the next node with its id waits for the
            // lease to lapse, then starts and serves.
            kill(first.pid, SIGKILL)
            replacement = try await NodeProcess.start(nodeID: "twin", redis: redis, prefix: prefix)
            let ann = try await #require(replacement).connect("ann")
            ann.send(#"{"id":"p","presence":{"user":"ann"}}"#)
            let after = (try await ann.receiveJSON()["ok"] as? [String: Any])?["connections"] as? [[String: String]]
            #expect(after?.map { $0["node"] } == ["twin"])
            try await ann.close()
        } catch {
            await first.kill()
            await replacement?.kill()
            throw error
        }
        await first.kill()
        await replacement?.kill()
    }
}
