package import GRPCSupport
import Synchronization

/// One message to every connection: broadcasts through the Gateway API (round-robin over
/// the nodes), each delivered to all `clients`, with at most `window` broadcasts not yet
/// fully delivered. Rates count deliveries (broadcasts × connections).
package struct BroadcastBenchmark: Sendable {
    /// Ports of other server processes whose CPU counts in the result (Redis).
    package var otherServerPorts: [Int] = []
    package var endpoints: [BenchEndpoint]
    package var gateways: [GRPCEndpoint]
    package var secret: String
    package var pushSecret: String
    package var clients: Int
    package var broadcasts: Int
    package var window: Int
    package var payloadBytes: Int
    package var format: BenchFormat
    package var sources: IPAddresses
    package var progress: Bool

    package init(
        endpoints: [BenchEndpoint], gateways: [GRPCEndpoint], secret: String, pushSecret: String, clients: Int, broadcasts: Int,
        window: Int = 1, payloadBytes: Int = 64, format: BenchFormat = .json, sources: IPAddresses, progress: Bool = false
    ) {
        self.endpoints = endpoints
        self.gateways = gateways
        self.secret = secret
        self.pushSecret = pushSecret
        self.clients = clients
        self.broadcasts = broadcasts
        self.window = window
        self.payloadBytes = payloadBytes
        self.format = format
        self.sources = sources
        self.progress = progress
    }

    package var label: String {
        "broadcast to \(clients) clients on \(endpoints.count) node(s), \(window) broadcast(s) in flight"
    }

    package func run() async throws -> BenchResult {
        guard clients >= 1, broadcasts >= 1, window >= 1 else { throw BenchError("broadcast needs clients, broadcasts and a window ≥ 1") }
        let ledger = DeliveryLedger(slots: clients)
        let fleet = try await ClientFleet.connect(
            count: clients, endpoints: endpoints, secret: secret, userPrefix: "cast\(UInt32.random(in: 0..<1_000_000))-", format: format,
            sources: sources
        ) { client, event in
            ledger.receive(event, by: client, keyedBy: .byReceiver)
        }
        let gatewayClients = try GatewayClients(endpoints: gateways, pushSecret: pushSecret)
        let meter = await NodeUsageMeter.start(endpoints: endpoints, otherPorts: otherServerPorts)
        let padding = String(repeating: "x", count: payloadBytes)
        let start = MonotonicClock.nanoseconds()
        let line = ProgressLine(enabled: progress) { "broadcast deliveries \(ledger.delivered)/\(ledger.sent)" }
        let (clients, broadcasts, window) = (self.clients, self.broadcasts, self.window)
        try await gatewayClients.with {
            for sequence in 0..<broadcasts {
                // Wait while `window` broadcasts are not fully delivered (give up after 30 s: lost).
                let stall = MonotonicClock.nanoseconds() + 30_000_000_000
                while ledger.sent - ledger.delivered >= window * clients, MonotonicClock.nanoseconds() < stall {
                    try await Task.sleep(for: .microseconds(200))
                }
                ledger.expect(clients)
                let marker = DeliveryMarker(source: 0, target: -1, sequence: sequence, sentAt: MonotonicClock.nanoseconds())
                try await gatewayClients.broadcast(via: sequence, data: marker.data(padding: padding))
            }
        }
        let (seconds, usage) = await ledger.finish(startedAt: start, timeout: .seconds(10), line: line, meter: meter, fleet: fleet)
        return BenchResult(
            scenario: "broadcast", label: label, clients: clients, nodes: endpoints.count, format: format.rawValue,
            payloadBytes: payloadBytes, load: "closed loop, \(window) broadcast(s) in flight", stop: "\(broadcasts) broadcasts",
            seconds: seconds, deliveredPerSecond: Double(ledger.delivered) / seconds, tally: ledger.tally(),
            latency: ledger.latency.summary, nodeUsage: usage
        )
    }
}
