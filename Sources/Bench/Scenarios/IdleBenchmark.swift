#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// Holds `connections` idle WebSockets spread over the nodes and reads each node's
/// resident memory from /proc before and after: what one idle connection costs. Where one
/// process's file limit is too small the connections are spread over `processes`
/// generator processes (`switchboard bench idle-worker`).
package struct IdleBenchmark: Sendable {
    package var endpoints: [BenchEndpoint]
    package var secret: String
    package var connections: Int
    package var processes: Int
    package var sources: IPAddresses
    package var settle: Duration
    /// How long to keep the connections open after measuring (for a run alongside).
    package var hold: Duration
    /// The command that runs one worker: `[executable, "bench", "idle-worker"]`.
    package var workerCommand: [String]

    package init(
        endpoints: [BenchEndpoint], secret: String, connections: Int, processes: Int = 1, sources: IPAddresses,
        settle: Duration = .seconds(2), hold: Duration = .zero, workerCommand: [String] = []
    ) {
        self.endpoints = endpoints
        self.secret = secret
        self.connections = connections
        self.processes = processes
        self.sources = sources
        self.settle = settle
        self.hold = hold
        self.workerCommand = workerCommand
    }

    package struct NodeMemory: Sendable, Codable, CustomStringConvertible {
        package let port: Int
        package let pid: Int32
        package let connections: Int
        package let rssBeforeKiB: Int
        package let rssAfterKiB: Int
        package let rssAfterCloseKiB: Int
        package var kibPerConnection: Double { Double(rssAfterKiB - rssBeforeKiB) / Double(max(connections, 1)) }
        package var description: String {
            "node :\(port) (pid \(pid)): \(connections) connections, RSS \(rssBeforeKiB) → \(rssAfterKiB) KiB = "
                + "\(String(format2: kibPerConnection)) KiB per connection; \(rssAfterCloseKiB) KiB once they closed"
        }
    }

    package struct Result: Sendable, Codable, CustomStringConvertible {
        package let connections: Int
        package let processes: Int
        package let connectSeconds: Double
        package let nodes: [NodeMemory]
        package var kibPerConnection: Double {
            let grown = nodes.reduce(0) { $0 + $1.rssAfterKiB - $1.rssBeforeKiB }
            return Double(grown) / Double(max(nodes.reduce(0) { $0 + $1.connections }, 1))
        }
        package var description: String {
            (["\(connections) idle connections from \(processes) process(es) in \(String(format2: connectSeconds)) s: "
                + "\(String(format2: kibPerConnection)) KiB per connection"] + nodes.map { "  \($0)" }).joined(separator: "\n")
        }
    }

    package func run() async throws -> Result {
        guard processes >= 1 else { throw BenchError("--processes must be at least 1") }
        // Say so before connecting anything when this process cannot hold its share.
        try FileLimit.ensure(atLeast: connections / processes + 256, for: "\(connections / processes) client sockets")
        var nodes: [ListeningProcess] = []
        for endpoint in endpoints {
            guard let process = await ListeningProcess.listening(on: endpoint.port) else {
                throw BenchError("no process on this machine listens on port \(endpoint.port): idle reads the node's memory from /proc")
            }
            nodes.append(process)
        }
        let before = try nodes.map { try ProcessMemory.residentKiB(pid: $0.pid) }
        let start = MonotonicClock.nanoseconds()
        let userPrefix = "idle\(UInt32.random(in: 0..<1_000_000))-"
        let release: @Sendable () async -> Void
        if processes == 1 {
            let fleet = try await ClientFleet.connect(
                count: connections, endpoints: endpoints, secret: secret, userPrefix: userPrefix, format: .json, sources: sources
            ) { _, _ in }
            release = { await fleet.closeAll() }
        } else {
            let workers = try await IdleWorkers.start(benchmark: self, userPrefix: userPrefix)
            release = { await workers.stop() }
        }
        let connectSeconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
        try await Task.sleep(for: settle)
        let after = try nodes.map { try ProcessMemory.residentKiB(pid: $0.pid) }
        if hold > .zero {
            print("holding \(connections) connections for \(hold) (SIGTERM ends the hold early)")
            fflush(nil)
            await TerminationSignal.wait(atMost: hold)
        }
        await release()
        try await Task.sleep(for: settle)
        let afterClose = nodes.map { (try? ProcessMemory.residentKiB(pid: $0.pid)) ?? 0 }
        let perNode = (0..<endpoints.count).map { node in connections / endpoints.count + (node < connections % endpoints.count ? 1 : 0) }
        return Result(
            connections: connections, processes: processes, connectSeconds: connectSeconds,
            nodes: nodes.indices.map { index in
                NodeMemory(
                    port: nodes[index].port, pid: nodes[index].pid, connections: perNode[index], rssBeforeKiB: before[index],
                    rssAfterKiB: after[index], rssAfterCloseKiB: afterClose[index]
                )
            }
        )
    }

    /// One worker process's part: connect `count` clients numbered from `first`, print
    /// "connected", hold them until stdin closes, then close them.
    package static func work(
        endpoints: [BenchEndpoint], secret: String, userPrefix: String, first: Int, count: Int, sources: IPAddresses
    ) async throws {
        let fleet = try await ClientFleet.connect(
            count: count, first: first, endpoints: endpoints, secret: secret, userPrefix: userPrefix, format: .json, sources: sources
        ) { _, _ in }
        print("connected \(count)")
        fflush(nil)
        await StandardInput.waitForEnd()
        await fleet.closeAll()
    }
}
