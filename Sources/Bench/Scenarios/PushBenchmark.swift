package import GRPCSupport
import SwiftProtobuf
import SwitchboardProtocol
import Synchronization

/// Backends push through the Gateway gRPC API: `concurrency` pushers each keep one
/// PushToUser call in flight, to users picked at random, spreading their calls over every
/// node's Gateway API, so most pushes are relayed to the node that holds the user.
package struct PushBenchmark: Sendable {
    /// Ports of other server processes whose CPU counts in the result (Redis).
    package var otherServerPorts: [Int] = []
    package var endpoints: [BenchEndpoint]
    package var gateways: [GRPCEndpoint]
    package var secret: String
    package var pushSecret: String
    package var clients: Int
    package var concurrency: Int
    /// Pushes per second offered in all; nil pushes as fast as the answers come.
    package var rate: Double?
    package var stop: BenchStop
    package var payloadBytes: Int
    package var format: BenchFormat
    package var sources: IPAddresses
    package var progress: Bool
    /// Over one `PushStream` per Gateway API, `concurrency` pushes in flight on it, instead
    /// of unary calls.
    package var streamed = false
    /// Pushes carry their data as JSON text (`dataJson`) instead of a `google.protobuf.Value`.
    package var dataJSON = false

    package init(
        endpoints: [BenchEndpoint], gateways: [GRPCEndpoint], secret: String, pushSecret: String, clients: Int, concurrency: Int,
        rate: Double?, stop: BenchStop, payloadBytes: Int = 64, format: BenchFormat = .json, sources: IPAddresses, progress: Bool = false
    ) {
        self.endpoints = endpoints
        self.gateways = gateways
        self.secret = secret
        self.pushSecret = pushSecret
        self.clients = clients
        self.concurrency = concurrency
        self.rate = rate
        self.stop = stop
        self.payloadBytes = payloadBytes
        self.format = format
        self.sources = sources
        self.progress = progress
    }

    package var label: String {
        "push via \(gateways.count) Gateway API(s)\(streamed ? " streamed" : "") to \(clients) clients on \(endpoints.count) node(s), "
            + (rate.map { "open loop at \(Int($0)) pushes/s" } ?? "\(concurrency) calls in flight")
    }

    package func run() async throws -> BenchResult {
        guard clients >= 1, concurrency >= 1 else { throw BenchError("push needs at least one client and one pusher") }
        let ledger = DeliveryLedger(slots: concurrency)
        let prefix = "push\(UInt32.random(in: 0..<1_000_000))-"
        let fleet = try await ClientFleet.connect(
            count: clients, endpoints: endpoints, secret: secret, userPrefix: prefix, format: format, sources: sources
        ) { client, event in
            ledger.receive(event, by: client, keyedBy: .bySource)
        }
        let gatewayClients = try GatewayClients(endpoints: gateways, pushSecret: pushSecret)
        let meter = await NodeUsageMeter.start(endpoints: endpoints, otherPorts: otherServerPorts)
        let padding = String(repeating: "x", count: payloadBytes)
        let start = MonotonicClock.nanoseconds()
        let line = ProgressLine(enabled: progress) { "pushed \(ledger.sent), delivered \(ledger.delivered)" }
        let (concurrency, clients, rate, stop, dataJSON) = (self.concurrency, self.clients, self.rate, self.stop, self.dataJSON)
        let deadline: Int64 = if case .duration(let seconds) = stop { start + Int64(seconds * 1e9) } else { .max }
        let quota: Int = if case .messages(let count) = stop { count } else { .max }
        let target = { @Sendable (pusher: Int, sequence: Int) -> Int in
            Int(UInt64(truncatingIfNeeded: (pusher &* 7919 &+ sequence &* 104_729) &* 2_654_435_761) % UInt64(clients))
        }
        if streamed {
            try await gatewayClients.with {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for gateway in 0..<gateways.count {
                        let slots = Array(stride(from: gateway, to: concurrency, by: gateways.count))
                        group.addTask {
                            try await Self.stream(
                                via: gateway, slots: slots, clients: gatewayClients, ledger: ledger, quota: quota, concurrency: concurrency,
                                deadline: deadline
                            ) { pusher, sequence in
                                let target = target(pusher, sequence)
                                let marker = DeliveryMarker(source: pusher, target: target, sequence: sequence, sentAt: MonotonicClock.nanoseconds())
                                return (fleet.user(target), marker.content(padding: padding, json: dataJSON))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        } else {
        try await gatewayClients.with {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for pusher in 0..<concurrency {
                    group.addTask {
                        let limit = quota == .max ? Int.max : quota / concurrency + (pusher < quota % concurrency ? 1 : 0)
                        var call = 0
                        while let sequence = ledger.reserve(slot: pusher, limit: limit) {
                            var sentAt = MonotonicClock.nanoseconds()
                            if let rate {
                                let due = start + Int64(Double(sequence * concurrency + pusher) * 1e9 / rate)
                                if due > sentAt { try await Task.sleep(for: .nanoseconds(due - sentAt)) }
                                sentAt = due
                            }
                            guard sentAt < deadline else {
                                ledger.unreserve(slot: pusher)
                                break
                            }
                            let target = target(pusher, sequence)
                            let marker = DeliveryMarker(source: pusher, target: target, sequence: sequence, sentAt: sentAt)
                            do {
                                try await gatewayClients.push(via: pusher + call, to: fleet.user(target), content: marker.content(padding: padding, json: dataJSON))
                            } catch {
                                ledger.callFailed()
                            }
                            call += 1
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        }
        let (seconds, usage) = await ledger.finish(startedAt: start, timeout: .seconds(10), line: line, meter: meter, fleet: fleet)
        let failed = ledger.failedCalls
        if failed > 0 { throw BenchError("\(failed) Gateway API push calls failed") }
        return BenchResult(
            scenario: streamed ? "push-stream" : "push", label: label, clients: clients, nodes: endpoints.count, format: format.rawValue, payloadBytes: payloadBytes,
            load: rate.map { "open loop at \(Int($0)) pushes/s" } ?? "closed loop, \(concurrency) calls in flight", stop: stop.description,
            seconds: seconds, deliveredPerSecond: Double(ledger.delivered) / seconds, tally: ledger.tally(),
            latency: ledger.latency.summary, nodeUsage: usage
        )
    }

    /// One stream's closed loop: each slot keeps one push in flight on the stream, the next
    /// sent when its outcome comes back.
    private static func stream(
        via gateway: Int, slots: [Int], clients: GatewayClients, ledger: DeliveryLedger, quota: Int, concurrency: Int, deadline: Int64,
        item: @escaping @Sendable (Int, Int) -> (user: String, content: Switchboard_Gateway_V1_PushContent)
    ) async throws {
        let (items, writer) = AsyncStream.makeStream(of: Switchboard_Gateway_V1_PushStreamItem.self)
        let open = Atomic<Int>(0)
        /// Sends the slot's next push; false when the slot is done.
        @Sendable func next(_ pusher: Int) -> Bool {
            let limit = quota == .max ? Int.max : quota / concurrency + (pusher < quota % concurrency ? 1 : 0)
            guard let sequence = ledger.reserve(slot: pusher, limit: limit) else { return false }
            guard MonotonicClock.nanoseconds() < deadline else {
                ledger.unreserve(slot: pusher)
                return false
            }
            let (user, content) = item(pusher, sequence)
            var push = Switchboard_Gateway_V1_PushStreamItem()
            push.id = UInt64(pusher)
            push.user = user
            push.push = content
            writer.yield(push)
            return true
        }
        @Sendable func slotDone() {
            if open.subtract(1, ordering: .relaxed).newValue == 0 { writer.finish() }
        }
        open.store(slots.count, ordering: .relaxed)
        for pusher in slots where !next(pusher) { slotDone() }
        try await clients.pushStream(via: gateway, items: items) { outcome in
            let pusher = Int(outcome.id)
            if case .error = outcome.result { ledger.callFailed() }
            if case .outcome(let pushed) = outcome.result, pushed.offline { ledger.callFailed() }
            if !next(pusher) { slotDone() }
        }
    }
}
