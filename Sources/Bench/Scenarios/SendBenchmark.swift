import Essentials
import NIOCore
import SwiftProtobuf
import SwitchboardProtocol
import Synchronization

/// Clients send to other clients: each message goes to a user picked at random, on
/// another node for `crossNodeShare` of the messages and on the sender's own node for
/// the rest. Clients are spread round-robin over the nodes.
package struct SendBenchmark: Sendable {
    /// Ports of other server processes whose CPU counts in the result (Redis).
    package var otherServerPorts: [Int] = []
    package var endpoints: [BenchEndpoint]
    package var secret: String
    package var clients: Int
    package var crossNodeShare: Double
    package var load: BenchLoad
    package var stop: BenchStop
    package var payloadBytes: Int
    package var format: BenchFormat
    package var sources: IPAddresses
    package var progress: Bool
    package var drainTimeout: Duration
    /// How the load is named in reports, when `load.description` (which names the exact
    /// rate) would make every run a different label.
    package var loadName: String?
    /// The sends' kind (nil: the node's default, "message"): a kind in the nodes'
    /// `durable-kinds` measures durable pushes.
    package var kind: String?

    package init(
        endpoints: [BenchEndpoint], secret: String, clients: Int, crossNodeShare: Double, load: BenchLoad, stop: BenchStop,
        payloadBytes: Int = 64, format: BenchFormat = .json, sources: IPAddresses, progress: Bool = false,
        drainTimeout: Duration = .seconds(10)
    ) {
        self.endpoints = endpoints
        self.secret = secret
        self.clients = clients
        self.crossNodeShare = crossNodeShare
        self.load = load
        self.stop = stop
        self.payloadBytes = payloadBytes
        self.format = format
        self.sources = sources
        self.progress = progress
        self.drainTimeout = drainTimeout
        loadName = nil
    }

    package var label: String {
        let share = crossNodeShare == 0 ? "same-node" : crossNodeShare == 1 ? "cross-node" : "\(Int(crossNodeShare * 100))% cross-node"
        return "send \(share), \(clients) clients on \(endpoints.count) node(s), \(loadName ?? load.description)\(kind.map { ", kind \($0)" } ?? "")"
    }

    package func run() async throws -> BenchResult {
        guard clients >= 2 else { throw BenchError("send needs at least 2 clients") }
        guard (0...1).contains(crossNodeShare) else { throw BenchError("--cross-node is a share between 0 and 1") }
        guard crossNodeShare == 0 || endpoints.count >= 2 else { throw BenchError("cross-node sends need at least two node URLs") }
        let state = SendRun(benchmark: self)
        let fleet = try await ClientFleet.connect(
            count: clients, endpoints: endpoints, secret: secret, userPrefix: state.userPrefix, format: format, sources: sources
        ) { client, event in state.received(event, by: client) }
        state.fleet.withLock { $0 = fleet }
        let meter = await NodeUsageMeter.start(endpoints: endpoints, otherPorts: otherServerPorts)
        let ledger = state.ledger
        let start = MonotonicClock.nanoseconds()
        let line = ProgressLine(enabled: progress) {
            let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
            return "sent \(ledger.sent), delivered \(ledger.delivered) (\(Int(Double(ledger.delivered) / max(seconds, 0.001))) msg/s)"
        }
        switch load {
        case .closedLoop:
            for client in 0..<clients { state.topUp(client) }
            if case .duration(let seconds) = stop {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                state.stopped.store(true, ordering: .relaxed)
            } else {
                // Deliveries drive the sending; stop waiting if they stall (messages lost).
                var last = (delivered: -1, at: MonotonicClock.nanoseconds())
                while ledger.sent < state.total {
                    try await Task.sleep(for: .milliseconds(1))
                    let now = MonotonicClock.nanoseconds()
                    if ledger.delivered != last.delivered {
                        last = (ledger.delivered, now)
                    } else if now - last.at > drainTimeout.nanoseconds {
                        break
                    }
                }
            }
        case .openLoop(let rate):
            try await state.pace(rate: rate, from: start)
        }
        let (seconds, usage) = await ledger.finish(startedAt: start, timeout: drainTimeout, line: line, meter: meter, fleet: fleet)
        return BenchResult(
            scenario: "send", label: label, clients: clients, nodes: endpoints.count, format: format.rawValue,
            payloadBytes: payloadBytes, load: load.description, stop: stop.description, seconds: seconds,
            deliveredPerSecond: Double(ledger.delivered) / seconds, tally: ledger.tally(), latency: ledger.latency.summary,
            nodeUsage: usage
        )
    }
}

/// The live state of one send run, reached from every event loop.
private final class SendRun: Sendable {
    let benchmark: SendBenchmark
    let userPrefix = "send\(UInt32.random(in: 0..<1_000_000))-"
    let ledger: DeliveryLedger
    let fleet = Mutex<ClientFleet?>(nil)
    let stopped = Atomic<Bool>(false)
    let padding: String
    /// `","kind":"…` when the benchmark names a kind, spliced after the target.
    let kindField: String
    /// Messages in all (count mode), else unbounded.
    let total: Int

    init(benchmark: SendBenchmark) {
        self.benchmark = benchmark
        ledger = DeliveryLedger(slots: benchmark.clients)
        padding = String(repeating: "x", count: benchmark.payloadBytes)
        kindField = benchmark.kind.map { #"","kind":""# + $0 } ?? ""
        switch benchmark.stop {
        case .messages(let count): total = count
        case .duration: total = .max
        }
    }

    /// The most `client` may send in count mode: an equal share of the total.
    private func quota(_ client: Int) -> Int {
        guard total != .max else { return .max }
        return total / benchmark.clients + (client < total % benchmark.clients ? 1 : 0)
    }

    /// Closed loop: sends from `client` until its window is full.
    func topUp(_ client: Int) {
        guard case .closedLoop(let window) = benchmark.load else { return }
        while !stopped.load(ordering: .relaxed), let sequence = ledger.reserve(slot: client, window: window, limit: quota(client)) {
            send(from: client, sequence: sequence, sentAt: MonotonicClock.nanoseconds())
        }
    }

    /// Open loop: message k is due at start + k / rate, and stamped with that time, so a
    /// stalled system shows up as latency instead of a slower offered load.
    func pace(rate: Double, from start: Int64) async throws {
        let interval = 1e9 / rate
        let count: Int
        switch benchmark.stop {
        case .messages(let messages): count = messages
        case .duration(let seconds): count = Int(seconds * rate)
        }
        var next = 0
        while next < count {
            let now = MonotonicClock.nanoseconds()
            while next < count {
                let due = start + Int64(Double(next) * interval)
                guard due <= now else { break }
                let client = next % benchmark.clients
                if let sequence = ledger.reserve(slot: client) { send(from: client, sequence: sequence, sentAt: due) }
                next += 1
            }
            try await Task.sleep(for: .microseconds(500))
        }
    }

    private func send(from client: Int, sequence: Int, sentAt: Int64) {
        guard let fleet = fleet.withLock({ $0 }) else { return }
        let target = self.target(of: client, sequence: sequence, nodes: fleet.endpoints.count)
        let marker = DeliveryMarker(source: client, target: target, sequence: sequence, sentAt: sentAt)
        switch benchmark.format {
        case .json:
            fleet.sockets[client].send(
                text: #"{"send":{"to":""# + fleet.user(target) + kindField + #"","data":{"m":""# + marker.text + #"","p":""# + padding + #""}}}"#
            )
        case .protobuf:
            var frame = Switchboard_V1_ClientFrame()
            frame.send.to = fleet.user(target)
            frame.send.data = marker.data(padding: padding)
            if let kind = benchmark.kind { frame.send.kind = kind }
            guard let bytes: [UInt8] = try? frame.serializedBytes() else { return }
            fleet.sockets[client].send(binary: ByteBuffer(bytes: bytes))
        }
    }

    /// The receiver of a message, derived from (client, sequence) by a hash: random-looking,
    /// free of shared state, the same on every run.
    private func target(of client: Int, sequence: Int, nodes: Int) -> Int {
        var hash = UInt64(truncatingIfNeeded: client) << 32 ^ UInt64(truncatingIfNeeded: sequence)
        hash = (hash ^ (hash >> 30)) &* 0xbf58476d1ce4e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d049bb133111eb
        hash ^= hash >> 31
        let clients = benchmark.clients
        let home = client % nodes
        let crosses = nodes > 1 && Double(hash % 10_000) < benchmark.crossNodeShare * 10_000
        let node = crosses ? (home + 1 + Int((hash >> 16) % UInt64(nodes - 1))) % nodes : home
        let onNode = (clients - node + nodes - 1) / nodes
        var slot = Int((hash >> 32) % UInt64(onNode))
        if node + slot * nodes == client, onNode > 1 { slot = (slot + 1) % onNode }
        return node + slot * nodes
    }

    func received(_ event: BenchSocket.Event, by client: Int) {
        if let marker = ledger.receive(event, by: client, keyedBy: .bySource), marker.source < benchmark.clients {
            topUp(marker.source)
        }
    }
}
