import HummingbirdWSClient
import NIOCore
import Node
import Synchronization
import SwitchboardProtocol

/// Two clients on a node: the sender streams fire-and-forget `send` frames to the
/// receiver, keeping at most `window` unacknowledged by the receiver in flight.
/// Measures delivered messages per second and send-to-receive latency.
public struct PairBenchmark: Sendable {
    public var url: String
    public var secret: String
    public var messages: Int
    public var payloadBytes: Int
    public var window: Int
    public var format: BenchFormat

    public init(url: String, secret: String, messages: Int, payloadBytes: Int, window: Int, format: BenchFormat) {
        self.url = url
        self.secret = secret
        self.messages = messages
        self.payloadBytes = payloadBytes
        self.window = window
        self.format = format
    }

    public struct Result: Sendable, CustomStringConvertible {
        public let messages: Int
        public let seconds: Double
        public let latency: LatencySummary
        public var messagesPerSecond: Double { Double(messages) / seconds }
        public var description: String {
            "delivered \(messages) messages in \(String(format2: seconds)) s: \(Int(messagesPerSecond)) msg/s; latency \(latency)"
        }
    }

    private final class Progress: Sendable {
        let received = Atomic<Int>(0)
        let samples = Mutex<[Int64]>([])
        let elapsed = Mutex<Double>(0)
    }

    public func run() async throws -> Result {
        let authenticator = try await TokenAuthenticator(secret: secret)
        let sender = "bench-sender-\(UInt32.random(in: 0...UInt32.max))"
        let receiver = "bench-receiver-\(UInt32.random(in: 0...UInt32.max))"
        let senderToken = try await authenticator.issue(user: sender, validFor: .seconds(3600))
        let receiverToken = try await authenticator.issue(user: receiver, validFor: .seconds(3600))
        let progress = Progress()
        let (ready, readyContinuation) = AsyncStream.makeStream(of: Void.self)
        let clock = ContinuousClock()
        let origin = clock.now
        let total = messages
        let padding = String(repeating: "x", count: payloadBytes)

        return try await withThrowingTaskGroup(of: Double?.self) { group in
            group.addTask {
                try await WebSocketClient.connect(
                    url: url, configuration: BenchClient.configuration(token: receiverToken, format: .json), logger: BenchClient.logger
                ) { inbound, outbound, _ in
                    readyContinuation.yield()
                    var samples: [Int64] = []
                    samples.reserveCapacity(total)
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message, let sentAt = Self.timestamp(in: text) else { continue }
                        samples.append((clock.now - origin).nanoseconds - sentAt)
                        if progress.received.add(1, ordering: .relaxed).newValue == total { break }
                    }
                    progress.samples.withLock { $0 = samples }
                    try await outbound.close(.normalClosure, reason: nil)
                }
                return nil
            }
            var iterator = ready.makeAsyncIterator()
            await iterator.next()
            group.addTask {
                try await WebSocketClient.connect(
                    url: url, configuration: BenchClient.configuration(token: senderToken, format: format), logger: BenchClient.logger
                ) { inbound, outbound, _ in
                    let start = ContinuousClock.now
                    for n in 0..<total {
                        while n - progress.received.load(ordering: .relaxed) >= window {
                            await Task.yield()
                        }
                        let sentAt = (clock.now - origin).nanoseconds
                        switch format {
                        case .json:
                            try await outbound.write(.text(
                                #"{"send":{"to":""# + receiver + #"","data":{"t":""# + String(sentAt) + #"","p":""# + padding + #""}}}"#
                            ))
                        case .protobuf:
                            var frame = Switchboard_V1_ClientFrame()
                            frame.send.to = receiver
                            frame.send.data = .init(structValue: ["t": .init(stringValue: String(sentAt)), "p": .init(stringValue: padding)])
                            try await outbound.write(.binary(ByteBuffer(bytes: try frame.serializedBytes() as [UInt8])))
                        }
                    }
                    while progress.received.load(ordering: .relaxed) < total {
                        try await Task.sleep(for: .milliseconds(1))
                    }
                    let seconds = (ContinuousClock.now - start).seconds
                    progress.elapsed.withLock { $0 = seconds }
                    try await outbound.close(.normalClosure, reason: nil)
                }
                return progress.elapsed.withLock { $0 }
            }
            var seconds = 0.0
            for try await value in group {
                if let value { seconds = value }
            }
            return Result(messages: total, seconds: seconds, latency: LatencySummary(nanoseconds: progress.samples.withLock { $0 }))
        }
    }

    /// The send time the sender put in the push (`"t":"<ns>"`), without a full JSON parse.
    static func timestamp(in text: String) -> Int64? {
        guard let marker = text.utf8.firstRange(of: #""t":""#.utf8) else { return nil }
        var value: Int64 = 0
        var found = false
        for byte in text.utf8[marker.upperBound...] {
            guard byte >= 48, byte <= 57 else { break }
            value = value * 10 + Int64(byte - 48)
            found = true
        }
        return found ? value : nil
    }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension String {
    init(format2 value: Double) {
        let scaled = (value * 100).rounded() / 100
        self = "\(scaled)"
    }
}
