import Auth
import NIOCore
import Synchronization

/// Connection ramp: `connections` clients connect (token check and upgrade included),
/// spread over the nodes and source addresses, at most `concurrency` handshakes at a
/// time, each counted when the node's welcome frame arrives; then each closes at once.
/// Measures handshakes per second.
package struct ConnectBenchmark: Sendable {
    package var endpoints: [BenchEndpoint]
    package var secret: String
    package var connections: Int
    package var concurrency: Int
    package var sources: IPAddresses

    package init(endpoints: [BenchEndpoint], secret: String, connections: Int, concurrency: Int, sources: IPAddresses) {
        self.endpoints = endpoints
        self.secret = secret
        self.connections = connections
        self.concurrency = concurrency
        self.sources = sources
    }

    package struct Result: Sendable, CustomStringConvertible {
        package let connections: Int
        package let failures: Int
        package let firstFailure: String?
        package let seconds: Double
        package let latency: LatencySummary
        package var perSecond: Double { Double(connections - failures) / seconds }
        package var description: String {
            "\(connections - failures)/\(connections) connected in \(String(format2: seconds)) s: \(Int(perSecond)) handshakes/s; "
                + "connect-to-welcome \(latency)" + (firstFailure.map { "; first failure: \($0)" } ?? "")
        }
    }

    private final class Tally: Sendable {
        let failures = Mutex<[String]>([])
        let latency = LatencyHistogram()
    }

    package func run() async throws -> Result {
        guard !endpoints.isEmpty else { throw BenchError("no node URLs") }
        try FileLimit.ensure(atLeast: concurrency + 256, for: "\(concurrency) concurrent handshakes")
        // Tokens first, so that minting them is not counted as the node's work.
        let authenticator = try await TokenAuthenticator(secret: secret)
        var tokens: [String] = []
        tokens.reserveCapacity(connections)
        for index in 0..<connections {
            tokens.append(try await authenticator.issue(user: "connect-\(index)", validFor: .seconds(3600)))
        }
        let (endpoints, sources) = (self.endpoints, self.sources)
        let start = MonotonicClock.nanoseconds()
        let tally = Tally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, token) in tokens.enumerated() {
                // The first connect completes alone (see BenchSocket.connect).
                if index >= concurrency || index == 1 { try await group.next() }
                group.addTask {
                    let began = MonotonicClock.nanoseconds()
                    do {
                        let socket = try await BenchSocket.connect(
                            to: endpoints[index % endpoints.count], token: token, format: .json, source: sources.address(for: index)
                        ) { _ in }
                        tally.latency.record(nanoseconds: MonotonicClock.nanoseconds() - began)
                        await socket.close()
                    } catch {
                        tally.failures.withLock { $0.append("\(error)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        let failures = tally.failures.withLock { $0 }
        return Result(
            connections: connections, failures: failures.count, firstFailure: failures.first,
            seconds: Double(MonotonicClock.nanoseconds() - start) / 1e9, latency: tally.latency.summary
        )
    }
}
