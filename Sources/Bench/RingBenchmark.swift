import HummingbirdWSClient
import NIOCore
import Node
import Synchronization

/// Many clients in a ring: client i streams fire-and-forget `send`s to client i+1, with
/// at most `window` of them in flight. Clients are spread round-robin over `urls`, so
/// with two nodes every message crosses nodes and with one none does: run both in the
/// same invocation to compare. Counts every delivery and checks none is lost.
public struct RingBenchmark: Sendable {
    public var urls: [String]
    public var secret: String
    public var clients: Int
    public var messagesPerClient: Int
    public var window: Int
    public var payloadBytes: Int

    public init(urls: [String], secret: String, clients: Int, messagesPerClient: Int, window: Int, payloadBytes: Int) {
        self.urls = urls
        self.secret = secret
        self.clients = clients
        self.messagesPerClient = messagesPerClient
        self.window = window
        self.payloadBytes = payloadBytes
    }

    public struct Result: Sendable, CustomStringConvertible {
        public let expected: Int
        public let delivered: Int
        public let seconds: Double
        public let latency: LatencySummary
        public var messagesPerSecond: Double { Double(delivered) / seconds }
        public var lost: Int { expected - delivered }
        public var description: String {
            "\(delivered)/\(expected) delivered (lost \(lost)) in \(String(format2: seconds)) s: \(Int(messagesPerSecond)) msg/s; latency \(latency)"
        }
    }

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    private final class Shared: Sendable {
        let received: [Counter]
        let connected = Atomic<Int>(0)
        let go = Atomic<Bool>(false)
        let samples = Mutex<[Int64]>([])
        init(clients: Int) { received = (0..<clients).map { _ in Counter() } }
    }

    public func run(timeout: Duration = .seconds(120)) async throws -> Result {
        let authenticator = try await TokenAuthenticator(secret: secret)
        let shared = Shared(clients: clients)
        let clock = ContinuousClock()
        let origin = clock.now
        let total = messagesPerClient
        let padding = String(repeating: "x", count: payloadBytes)
        let clients = self.clients
        let window = self.window
        var start = clock.now
        var end = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<clients {
                let token = try await authenticator.issue(user: "ring-\(index)", validFor: .seconds(3600))
                let url = urls[index % urls.count]
                let next = (index + 1) % clients
                group.addTask {
                    try await WebSocketClient.connect(
                        url: url, configuration: BenchClient.configuration(token: token, format: .json), logger: BenchClient.logger
                    ) { inbound, outbound, _ in
                        try await withThrowingTaskGroup(of: Void.self) { pumps in
                            pumps.addTask {
                                var samples: [Int64] = []
                                samples.reserveCapacity(total)
                                for try await message in inbound.messages(maxSize: 1 << 20) {
                                    guard case .text(let text) = message else { continue }
                                    if text.contains(#""welcome""#) {
                                        shared.connected.add(1, ordering: .relaxed)
                                        continue
                                    }
                                    guard let sentAt = PairBenchmark.timestamp(in: text) else { continue }
                                    samples.append((clock.now - origin).nanoseconds - sentAt)
                                    if shared.received[index].value.add(1, ordering: .relaxed).newValue == total { break }
                                }
                                shared.samples.withLock { $0.append(contentsOf: samples) }
                            }
                            while !shared.go.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(5)) }
                            for n in 0..<total {
                                while n - shared.received[next].value.load(ordering: .relaxed) >= window {
                                    try await Task.sleep(for: .microseconds(200))
                                }
                                let sentAt = (clock.now - origin).nanoseconds
                                try await outbound.write(.text(
                                    #"{"send":{"to":"ring-\#(next)","data":{"t":""# + String(sentAt) + #"","p":""# + padding + #""}}}"#
                                ))
                            }
                            try await pumps.next()
                            pumps.cancelAll()
                        }
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                }
                if index % 100 == 99 { try await Task.sleep(for: .milliseconds(10)) }
            }
            let connectDeadline = clock.now.advanced(by: .seconds(60))
            while shared.connected.load(ordering: .relaxed) < clients {
                guard clock.now < connectDeadline else { throw BenchError("only \(shared.connected.load(ordering: .relaxed)) of \(clients) clients connected") }
                try await Task.sleep(for: .milliseconds(20))
            }
            start = clock.now
            shared.go.store(true, ordering: .releasing)
            let deadline = clock.now.advanced(by: timeout)
            while shared.received.reduce(0, { $0 + $1.value.load(ordering: .relaxed) }) < clients * total, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            end = clock.now
            if shared.received.reduce(0, { $0 + $1.value.load(ordering: .relaxed) }) < clients * total {
                group.cancelAll()  // something was lost: stop waiting for it
            } else {
                try await group.waitForAll()
            }
        }
        let delivered = shared.received.reduce(0) { $0 + $1.value.load(ordering: .relaxed) }
        return Result(
            expected: clients * total, delivered: delivered, seconds: (end - start).seconds,
            latency: LatencySummary(nanoseconds: shared.samples.withLock { $0 })
        )
    }
}
