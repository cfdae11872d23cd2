import NIOCore
import Synchronization

/// Topics: `topics` topics of `subscribersPerTopic` subscribers each among `clients`
/// clients (client c follows topic t when (c − t·S) mod N < S, so one big topic is every
/// client, and 10,000 topics × 3 over 10,000 clients is three topics a client). Each
/// publish comes from one of its topic's subscribers in turn (echo is on, so the publisher
/// is one of the S who get it); a run counts every delivery to every subscriber.
package struct FanoutBenchmark: Sendable {
    /// Ports of other server processes whose CPU counts in the result (Redis).
    package var otherServerPorts: [Int] = []
    package var endpoints: [BenchEndpoint]
    package var secret: String
    package var clients: Int
    package var topics: Int
    package var subscribersPerTopic: Int
    /// Closed loop: publishes per topic not yet fully delivered; open loop: publishes per second in all.
    package var load: BenchLoad
    package var seconds: Double
    package var payloadBytes: Int
    package var sources: IPAddresses
    package var progress: Bool
    /// The namespace the nodes let any client subscribe and publish in.
    package var namespace: String

    package init(
        endpoints: [BenchEndpoint], secret: String, clients: Int, topics: Int, subscribersPerTopic: Int, load: BenchLoad, seconds: Double,
        payloadBytes: Int = 64, sources: IPAddresses, progress: Bool = false, namespace: String = "bench"
    ) {
        self.endpoints = endpoints
        self.secret = secret
        self.clients = clients
        self.topics = topics
        self.subscribersPerTopic = subscribersPerTopic
        self.load = load
        self.seconds = seconds
        self.payloadBytes = payloadBytes
        self.sources = sources
        self.progress = progress
        self.namespace = namespace
    }

    package var label: String {
        "fanout: \(topics) topic(s) × \(subscribersPerTopic) subscribers, \(clients) clients on \(endpoints.count) node(s), \(load)"
    }

    package func run() async throws -> BenchResult {
        guard clients >= 1, topics >= 1, (1...clients).contains(subscribersPerTopic) else {
            throw BenchError("fanout needs clients ≥ 1, topics ≥ 1 and 1 ≤ subscribers per topic ≤ clients")
        }
        let state = FanoutRun(benchmark: self)
        let fleet = try await ClientFleet.connect(
            count: clients, endpoints: endpoints, secret: secret, userPrefix: "fan\(UInt32.random(in: 0..<1_000_000))-", format: .json,
            sources: sources
        ) { client, event in state.received(event, by: client) }
        state.fleet.withLock { $0 = fleet }
        try await state.subscribeAll()
        let meter = await NodeUsageMeter.start(endpoints: endpoints, otherPorts: otherServerPorts)
        let ledger = state.ledger
        let start = MonotonicClock.nanoseconds()
        let line = ProgressLine(enabled: progress) {
            let elapsed = Double(MonotonicClock.nanoseconds() - start) / 1e9
            return "deliveries \(ledger.delivered)/\(ledger.sent) (\(Int(Double(ledger.delivered) / max(elapsed, 0.001)))/s)"
        }
        switch load {
        case .closedLoop:
            for topic in 0..<topics { state.topUp(topic) }
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            state.stopped.store(true, ordering: .relaxed)
        case .openLoop(let rate):
            try await state.pace(rate: rate, from: start)
        }
        let (elapsed, usage) = await ledger.finish(startedAt: start, timeout: .seconds(10), line: line, meter: meter, fleet: fleet)
        return BenchResult(
            scenario: "fanout", label: label, clients: clients, nodes: endpoints.count, format: BenchFormat.json.rawValue,
            payloadBytes: payloadBytes, load: load.description, stop: BenchStop.duration(seconds: seconds).description, seconds: elapsed,
            deliveredPerSecond: Double(ledger.delivered) / elapsed, tally: ledger.tally(), latency: ledger.latency.summary, nodeUsage: usage
        )
    }
}

/// The live state of one fanout run, reached from every event loop.
private final class FanoutRun: Sendable {
    let benchmark: FanoutBenchmark
    /// One slot per (topic, subscriber): t·S + k.
    let ledger: DeliveryLedger
    let fleet = Mutex<ClientFleet?>(nil)
    let stopped = Atomic<Bool>(false)
    let subscribed = Atomic<Int>(0)
    let refused = Mutex<String?>(nil)
    /// Per topic: the next sequence number, and deliveries still expected.
    let books: Mutex<(sequences: [Int], outstanding: [Int])>
    let topicPrefix: String
    let padding: String

    init(benchmark: FanoutBenchmark) {
        self.benchmark = benchmark
        ledger = DeliveryLedger(slots: benchmark.topics * benchmark.subscribersPerTopic)
        books = Mutex((Array(repeating: 0, count: benchmark.topics), Array(repeating: 0, count: benchmark.topics)))
        topicPrefix = "\(benchmark.namespace):fan\(UInt32.random(in: 0..<1_000_000))-"
        padding = String(repeating: "x", count: benchmark.payloadBytes)
    }

    private var size: (clients: Int, perTopic: Int) { (benchmark.clients, benchmark.subscribersPerTopic) }

    /// The client that is subscriber `k` of `topic`.
    private func subscriber(_ k: Int, of topic: Int) -> Int { (topic * size.perTopic + k) % size.clients }

    /// Every client subscribes to its topics; returns once the nodes have answered them all.
    func subscribeAll() async throws {
        guard let fleet = fleet.withLock({ $0 }) else { return }
        for topic in 0..<benchmark.topics {
            for k in 0..<size.perTopic {
                fleet.sockets[subscriber(k, of: topic)].send(text: #"{"id":"s","subscribe":{"topic":""# + topicPrefix + String(topic) + #""}}"#)
            }
            // Paced, so no client passes its frame burst and no node queues thousands at once.
            if topic % 256 == 255 { try await Task.sleep(for: .milliseconds(5)) }
        }
        let wanted = benchmark.topics * size.perTopic
        let deadline = MonotonicClock.nanoseconds() + 120_000_000_000
        while subscribed.load(ordering: .relaxed) < wanted {
            if let refusal = refused.withLock({ $0 }) { throw BenchError("a subscribe was refused: \(refusal)") }
            guard MonotonicClock.nanoseconds() < deadline else {
                throw BenchError("\(subscribed.load(ordering: .relaxed)) of \(wanted) subscribes answered in 120 s")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Closed loop: publishes on `topic` while fewer than the window are not fully delivered.
    func topUp(_ topic: Int) {
        guard case .closedLoop(let window) = benchmark.load, !stopped.load(ordering: .relaxed) else { return }
        while let sequence = books.withLock({ books -> Int? in
            guard books.outstanding[topic] <= (window - 1) * size.perTopic else { return nil }
            books.outstanding[topic] += size.perTopic
            defer { books.sequences[topic] += 1 }
            return books.sequences[topic]
        }) {
            publish(topic, sequence: sequence, sentAt: MonotonicClock.nanoseconds())
        }
    }

    /// Open loop: publish n is due at start + n / rate, on a topic picked by a hash of n,
    /// stamped with that time (a stalled system shows as latency, not as a lower load).
    func pace(rate: Double, from start: Int64) async throws {
        let interval = 1e9 / rate
        let count = Int(benchmark.seconds * rate)
        var next = 0
        while next < count {
            let now = MonotonicClock.nanoseconds()
            while next < count {
                let due = start + Int64(Double(next) * interval)
                guard due <= now else { break }
                let topic = Int(Self.mix(UInt64(next)) % UInt64(benchmark.topics))
                let sequence = books.withLock { books in
                    books.outstanding[topic] += size.perTopic
                    defer { books.sequences[topic] += 1 }
                    return books.sequences[topic]
                }
                publish(topic, sequence: sequence, sentAt: due)
                next += 1
            }
            try await Task.sleep(for: .microseconds(500))
        }
    }

    private func publish(_ topic: Int, sequence: Int, sentAt: Int64) {
        guard let fleet = fleet.withLock({ $0 }) else { return }
        ledger.expect(size.perTopic)
        let marker = DeliveryMarker(source: topic, target: -1, sequence: sequence, sentAt: sentAt)
        let publisher = subscriber(Int(Self.mix(UInt64(sequence) << 20 ^ UInt64(topic)) % UInt64(size.perTopic)), of: topic)
        fleet.sockets[publisher].send(
            text: #"{"id":"p","publish":{"topic":""# + topicPrefix + String(topic) + #"","data":{"m":""# + marker.text + #"","p":""# + padding
                + #""}}}"#
        )
    }

    func received(_ event: BenchSocket.Event, by client: Int) {
        if case .closed = event { return _ = ledger.receive(event, by: client, keyedBy: .byReceiver) }
        guard case .text(let buffer) = event else { return ledger.unreadable() }
        guard let marker = DeliveryMarker(json: buffer) else {
            if let error = ErrorAnswer(event) {
                if !subscribedAll { refused.withLock { $0 = $0 ?? error.text } }
                ledger.answeredError(error.text)
            } else if buffer.readableBytesView.starts(with: Self.subscribeAnswer) {
                subscribed.add(1, ordering: .relaxed)
            }
            return
        }
        let topic = marker.source
        let k = ((client - topic * size.perTopic) % size.clients + size.clients) % size.clients
        guard marker.target == -1, (0..<benchmark.topics).contains(topic), k < size.perTopic else { return ledger.misdelivered() }
        let latency = MonotonicClock.nanoseconds() - marker.sentAt
        if ledger.deliver(slot: topic * size.perTopic + k, sequence: marker.sequence, latencyNanoseconds: latency) {
            books.withLock { $0.outstanding[topic] -= 1 }
            topUp(topic)
        }
    }

    private var subscribedAll: Bool { subscribed.load(ordering: .relaxed) >= benchmark.topics * size.perTopic }

    private static let subscribeAnswer = Array(#"{"id":"s","ok""#.utf8)

    private static func mix(_ value: UInt64) -> UInt64 {
        var hash = value &+ 0x9e3779b97f4a7c15
        hash = (hash ^ (hash >> 30)) &* 0xbf58476d1ce4e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d049bb133111eb
        return hash ^ (hash >> 31)
    }
}
