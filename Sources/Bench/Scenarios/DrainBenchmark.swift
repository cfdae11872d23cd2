#if canImport(Glibc)
import Glibc
#endif
import Auth
import NIOCore
import Synchronization

/// A node leaving under load: `clients` connect to the first node, the generator sends
/// that node's process SIGTERM, and every client closed with 1012 reconnects at once to
/// one of the other nodes, as a client behind a load balancer would. Measures how the
/// node spread its closes, how fast the clients were back, and the busiest 100 ms of
/// reconnects the other nodes took.
package struct DrainBenchmark: Sendable {
    package var drained: BenchEndpoint
    package var others: [BenchEndpoint]
    package var secret: String
    package var clients: Int
    package var sources: IPAddresses

    package init(drained: BenchEndpoint, others: [BenchEndpoint], secret: String, clients: Int, sources: IPAddresses) {
        self.drained = drained
        self.others = others
        self.secret = secret
        self.clients = clients
        self.sources = sources
    }

    package struct Result: Sendable, CustomStringConvertible {
        package let clients: Int
        /// SIGTERM to the first and to the last close, in seconds.
        package let firstClose: Double
        package let lastClose: Double
        /// SIGTERM to the drained process's exit.
        package let exitedAfter: Double?
        package let reconnected: Int
        /// Closes with a code other than 1012, and reconnects that failed.
        package let otherCloses: Int
        package let failures: [String]
        /// Close to welcome on another node.
        package let reconnect: LatencySummary
        /// The most reconnects that completed in one 100 ms interval.
        package let peakPer100ms: Int

        package var description: String {
            "\(reconnected)/\(clients) reconnected; closes from \(String(format2: firstClose)) s to \(String(format2: lastClose)) s after SIGTERM, "
                + "node exited after \(exitedAfter.map { String(format2: $0) + " s" } ?? "— (still running)"); "
                + "busiest 100 ms: \(peakPer100ms) reconnects; close-to-welcome \(reconnect)"
                + (otherCloses > 0 ? "; \(otherCloses) closes were not 1012" : "")
                + (failures.first.map { "; \(failures.count) reconnects failed, first: \($0)" } ?? "")
        }
    }

    private final class Tally: Sendable {
        struct State {
            var closes: [Int64] = []
            var reconnects: [Int64] = []
            var otherCloses = 0
            var failures: [String] = []
        }
        let state = Mutex(State())
        let latency = LatencyHistogram()
    }

    package func run() async throws -> Result {
        guard !others.isEmpty else { throw BenchError("drain needs at least two node URLs: the first is drained, clients reconnect to the others") }
        try FileLimit.ensure(atLeast: clients * 2 + 256, for: "\(clients) clients and their reconnections")
        guard let process = await ListeningProcess.listening(on: drained.port) else {
            throw BenchError("no process on this machine listens on \(drained.port): drain needs the node to SIGTERM")
        }
        guard process.pid != getpid() else { throw BenchError("the node on \(drained.port) runs in this process; drain would SIGTERM itself") }
        let authenticator = try await TokenAuthenticator(secret: secret)
        var minted: [String] = []
        for index in 0..<clients { minted.append(try await authenticator.issue(user: "drain-\(index)", validFor: .seconds(3600))) }
        let tokens = minted
        let (drained, others, sources) = (self.drained, self.others, self.sources)
        let tally = Tally()

        @Sendable func reconnect(_ index: Int, closedAt: Int64) async {
            do {
                _ = try await BenchSocket.connect(
                    to: others[index % others.count], token: tokens[index], format: .json, source: sources.address(for: index)
                ) { _ in }
                let now = MonotonicClock.nanoseconds()
                tally.latency.record(nanoseconds: now - closedAt)
                tally.state.withLock { $0.reconnects.append(now) }
            } catch {
                tally.state.withLock { $0.failures.append("\(error)") }
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<clients {
                if index >= 100 { try await group.next() }
                group.addTask {
                    _ = try await BenchSocket.connect(to: drained, token: tokens[index], format: .json, source: sources.address(for: index)) { event in
                        guard case .closed(let code) = event else { return }
                        let closedAt = MonotonicClock.nanoseconds()
                        tally.state.withLock {
                            $0.closes.append(closedAt)
                            if code != 1012 { $0.otherCloses += 1 }
                        }
                        Task { await reconnect(index, closedAt: closedAt) }
                    }
                }
            }
            try await group.waitForAll()
        }

        let signalled = MonotonicClock.nanoseconds()
        guard kill(process.pid, SIGTERM) == 0 else { throw BenchError("cannot signal node process \(process.pid)") }
        var exitedAt: Int64?
        let deadline = signalled + 120 * 1_000_000_000
        while MonotonicClock.nanoseconds() < deadline {
            if exitedAt == nil, kill(process.pid, 0) != 0 { exitedAt = MonotonicClock.nanoseconds() }
            let done = tally.state.withLock { $0.reconnects.count + $0.failures.count }
            if done >= clients && exitedAt != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let state = tally.state.withLock { $0 }
        guard let first = state.closes.min(), let last = state.closes.max() else {
            throw BenchError("the node closed no client within 120 s of SIGTERM")
        }
        var buckets: [Int64: Int] = [:]
        for time in state.reconnects { buckets[(time - signalled) / 100_000_000, default: 0] += 1 }
        return Result(
            clients: clients, firstClose: Double(first - signalled) / 1e9, lastClose: Double(last - signalled) / 1e9,
            exitedAfter: exitedAt.map { Double($0 - signalled) / 1e9 }, reconnected: state.reconnects.count,
            otherCloses: state.otherCloses, failures: state.failures, reconnect: tally.latency.summary,
            peakPer100ms: buckets.values.max() ?? 0
        )
    }
}
