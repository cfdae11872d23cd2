import Auth
import Essentials
import NIOCore
import NIOWebSocket
import Synchronization
import WSClient

/// Closed-loop round trips: each of `clients` connections sends a frame, waits for its
/// answer, and sends the next. `location.update` goes node → Location backend → node;
/// `ping` is answered by the node itself, the baseline that shows what the backend hop costs.
/// Measures completed calls per second and round-trip latency.
package struct CallsBenchmark: Sendable {
    package var url: String
    package var secret: String
    package var clients: Int
    package var callsPerClient: Int
    package var operation: Operation
    /// Ports of other server processes whose CPU per call is reported (the backend, Redis).
    package var otherServerPorts: [Int] = []

    package enum Operation: String, Sendable, CaseIterable {
        case locationUpdate = "location.update"
        case ping

        func frame(id: Int) -> String {
            switch self {
            case .locationUpdate: #"{"id":"\#(id)","call":"location.update","data":{"latitude":52.5,"longitude":13.4}}"#
            case .ping: #"{"id":"\#(id)","ping":{}}"#
            }
        }
    }

    package init(url: String, secret: String, clients: Int, callsPerClient: Int, operation: Operation = .locationUpdate) {
        self.url = url
        self.secret = secret
        self.clients = clients
        self.callsPerClient = callsPerClient
        self.operation = operation
    }

    package struct Result: Sendable, CustomStringConvertible {
        package let calls: Int
        package let failures: Int
        package let seconds: Double
        package let latency: LatencySummary
        /// The node's (and the other measured servers') CPU and context switches over the run.
        package let usage: [ListeningProcess.Usage]
        package var callsPerSecond: Double { Double(calls) / seconds }
        package var description: String {
            var lines = ["\(calls) calls (\(failures) failed) in \(String(format2: seconds)) s: \(Int(callsPerSecond)) calls/s; round trip \(latency)"]
            lines += usage.map { "  per call: \($0.cost(per: calls))" }
            return lines.joined(separator: "\n")
        }
    }

    private final class Tally: Sendable {
        let samples = Mutex<[Int64]>([])
        let failures = Atomic<Int>(0)
        let connected = Atomic<Int>(0)
        let go = Atomic<Bool>(false)
    }

    package func run() async throws -> Result {
        let authenticator = try await TokenAuthenticator(secret: secret)
        let tally = Tally()
        let clock = ContinuousClock()
        let perClient = callsPerClient
        var start = clock.now
        var meter: NodeUsageMeter?
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<clients {
                let token = try await authenticator.issue(user: "caller-\(n)", validFor: .seconds(3600))
                group.addTask {
                    try await WebSocketClient.connect(
                        url: url, configuration: BenchClient.configuration(token: token, format: .json), logger: BenchClient.logger
                    ) { inbound, outbound, _ in
                        var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                        _ = try await messages.next()  // welcome
                        tally.connected.add(1, ordering: .relaxed)
                        while !tally.go.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(5)) }
                        var samples: [Int64] = []
                        samples.reserveCapacity(perClient)
                        for call in 0..<perClient {
                            let sent = clock.now
                            try await outbound.write(.text(operation.frame(id: call)))
                            guard case .text(let reply) = try await messages.next() else { break }
                            if !reply.contains(#""ok""#) { tally.failures.add(1, ordering: .relaxed) }
                            samples.append((clock.now - sent).nanoseconds)
                        }
                        tally.samples.withLock { $0.append(contentsOf: samples) }
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                }
            }
            while tally.connected.load(ordering: .relaxed) < clients { try await Task.sleep(for: .milliseconds(10)) }
            meter = await NodeUsageMeter.start(endpoints: [try BenchEndpoint(url: url)], otherPorts: otherServerPorts)
            start = clock.now
            tally.go.store(true, ordering: .releasing)
            try await group.waitForAll()
        }
        let seconds = (clock.now - start).seconds
        let usage = meter?.finish() ?? []
        let samples = tally.samples.withLock { $0 }
        return Result(
            calls: samples.count, failures: tally.failures.load(ordering: .relaxed), seconds: seconds,
            latency: LatencySummary(nanoseconds: samples), usage: usage
        )
    }
}
