import HummingbirdWSClient
import Node
import Synchronization

/// Connection ramp: `connections` clients connect (token check and upgrade included), at
/// most `concurrency` handshakes at a time, each counted when the node's welcome frame
/// arrives; then all close. Measures handshakes per second.
public struct ConnectBenchmark: Sendable {
    public var url: String
    public var secret: String
    public var connections: Int
    public var concurrency: Int

    public init(url: String, secret: String, connections: Int, concurrency: Int) {
        self.url = url
        self.secret = secret
        self.connections = connections
        self.concurrency = concurrency
    }

    public struct Result: Sendable, CustomStringConvertible {
        public let connections: Int
        public let failures: Int
        public let seconds: Double
        public let latency: LatencySummary
        public var perSecond: Double { Double(connections - failures) / seconds }
        public var description: String {
            "\(connections - failures)/\(connections) connected in \(String(format2: seconds)) s: \(Int(perSecond)) handshakes/s; "
                + "connect-to-welcome \(latency)"
        }
    }

    private final class Tally: Sendable {
        let failures = Atomic<Int>(0)
        let samples = Mutex<[Int64]>([])
    }

    public func run() async throws -> Result {
        try FileLimit.ensure(atLeast: concurrency + 64, for: "\(concurrency) concurrent handshakes")
        let authenticator = try await TokenAuthenticator(secret: secret)
        var tokens: [String] = []
        for index in 0..<connections {
            tokens.append(try await authenticator.issue(user: "connect-\(index)", validFor: .seconds(3600)))
        }
        let clock = ContinuousClock()
        let start = clock.now
        let tally = Tally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, token) in tokens.enumerated() {
                if index >= concurrency { try await group.next() }
                group.addTask { [url] in
                    let began = clock.now
                    do {
                        try await WebSocketClient.connect(
                            url: url, configuration: BenchClient.configuration(token: token, format: .json), logger: BenchClient.logger
                        ) { inbound, outbound, _ in
                            var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                            _ = try await messages.next()
                            let took = (clock.now - began).nanoseconds
                            tally.samples.withLock { $0.append(took) }
                            try await outbound.close(.normalClosure, reason: nil)
                        }
                    } catch {
                        tally.failures.add(1, ordering: .relaxed)
                    }
                }
            }
            try await group.waitForAll()
        }
        return Result(
            connections: connections, failures: tally.failures.load(ordering: .relaxed), seconds: (clock.now - start).seconds,
            latency: LatencySummary(nanoseconds: tally.samples.withLock { $0 })
        )
    }
}
