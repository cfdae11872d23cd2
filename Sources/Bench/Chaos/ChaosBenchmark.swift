#if canImport(Glibc)
import Glibc
#endif
import Auth
import GRPCCore
package import GRPCSupport
import Logging
import SwitchboardClient
import SwiftProtobuf
import SwitchboardProtocol
import SwitchboardWire
import Synchronization

/// Steady traffic for faults injected from outside (`ops/chaos.sh`): `clients` connections
/// made with the Swift client library — its reconnect policy, inbox resume and dedupe, as
/// an application has them — spread over the nodes, and a backend pushing to random users
/// through the Gateway API at `rate`, every other push durable; and clients calling the
/// Location backend through their node at `callRate`. Each push and call is booked by the
/// second it was sent, on the wall clock so that the faults' times can be laid over the
/// result (`ChaosReport`).
package struct ChaosBenchmark: Sendable {
    package var urls: [String]
    package var gateways: [GRPCEndpoint]
    package var secret: String
    package var pushSecret: String
    package var clients: Int
    /// Pushes per second offered, in all.
    package var rate: Double
    /// Backend calls per second (`location.update` from random clients, through the node to
    /// the Location backend over gRPC).
    package var callRate: Double = 50
    /// Seconds of load (at most, with `untilInputEnds`).
    package var duration: Double
    /// The load stops when this process's stdin closes: the fault script says when it is done.
    /// Until then each line is a command: `presence <label>` audits presence (`PresenceAudit`)
    /// and prints `presence <label>: …` when done.
    package var untilInputEnds = false
    /// The last this many clients reach the nodes at `isolatedHost` instead of the URLs' own,
    /// so that a fault script can cut their network alone (nftables on that address).
    package var isolatedClients = 0
    package var isolatedHost = "127.0.0.9"
    /// The most seconds after the load for late deliveries (reconnects, resumes) before
    /// booking losses; less once every durable push owed has arrived (at least 5).
    package var settle: Double = 30
    /// Connections reading slowly besides the clients (`SlowReaders`), and the pushes a
    /// second sent to them (2 KB each, more than their pace drains).
    package var slowReaders = 0
    package var slowPushRate: Double = 0
    /// Seconds between topic-less broadcasts (Gateway API `Broadcast`; 0: none).
    package var broadcastEvery: Double = 10
    /// New connections per second at the start.
    package var connectRate = 500
    package var progress = true

    package init(urls: [String], gateways: [GRPCEndpoint], secret: String, pushSecret: String, clients: Int, rate: Double, duration: Double) {
        self.urls = urls
        self.gateways = gateways
        self.secret = secret
        self.pushSecret = pushSecret
        self.clients = clients
        self.rate = rate
        self.duration = duration
    }

    package func run() async throws -> ChaosReport {
        guard !urls.isEmpty else { throw BenchError("chaos needs node URLs (--urls)") }
        // One socket per client and the gRPC clients'; a tenth more where the hard limit
        // allows, for sockets still closing while their replacements open (a storm).
        let sockets = clients + slowReaders
        try FileLimit.ensure(atLeast: sockets + 256, preferring: sockets + sockets / 10 + 256, for: "\(sockets) sockets")
        let slowEndpoints = try urls.map(BenchEndpoint.init(url:))
        let authenticator = try await TokenAuthenticator(secret: secret)
        let validFor = Int64(duration + settle) + 3600
        var connections: [SwitchboardClient] = []
        for index in 0..<clients {
            let token = try await authenticator.issue(user: Self.user(index), validFor: .seconds(validFor))
            // Each client starts at its own node and tries the others in turn, as a client
            // given the node list does.
            let first = index % urls.count
            var own = Array(urls[first...] + urls[..<first])
            if index >= self.clients - isolatedClients { own = try own.map { try Self.url($0, host: isolatedHost) } }
            var configuration = SwitchboardClientConfiguration(urls: own, token: .fixed(token))
            configuration.heartbeatInterval = .seconds(5)
            connections.append(SwitchboardClient(configuration: configuration, logger: Logger(label: "chaos", factory: { _ in SwiftLogNoOpLogHandler() })))
        }
        let clients = connections
        let slow = SlowReaders(count: slowReaders)
        let gateway = try GatewayClients(endpoints: gateways, pushSecret: pushSecret)
        let ledger = ChaosLedger(capacity: Int(rate * duration) + 16)
        let startedAt = MonotonicClock.nanoseconds()
        let startedAtEpoch = Self.epochSeconds()
        @Sendable func second() -> Int { Int((MonotonicClock.nanoseconds() - startedAt) / 1_000_000_000) }

        // Presence audits on connections of their own: behind the pushes' calls they would
        // wait for free HTTP/2 streams.
        let auditGateway = try GatewayClients(endpoints: gateways, pushSecret: pushSecret)
        let presenceChecks = try await auditGateway.with { try await gateway.with {
            try await withThrowingTaskGroup(of: Void.self, returning: [ChaosReport.PresenceCheck].self) { background in
                for (index, client) in clients.enumerated() {
                    background.addTask { try? await client.run() }
                    background.addTask {
                        for await push in client.pushes {
                            guard let marker = DeliveryMarker(data: push.data) else { continue }
                            if marker.source == Self.broadcastSource {
                                ledger.broadcastReceived(marker.sequence)
                                continue
                            }
                            guard marker.target == index else {
                                ledger.misdelivered()
                                continue
                            }
                            let latency = (MonotonicClock.nanoseconds() - marker.sentAt) / 1000
                            ledger.received(marker.sequence, second: second(), latencyMicroseconds: Int(latency))
                        }
                    }
                    // Paced, so that the start is not itself a connection storm.
                    if (index + 1) % max(connectRate / 10, 1) == 0 { try await Task.sleep(for: .milliseconds(100)) }
                }
                if slowReaders > 0 {
                    background.addTask { await slow.run(endpoints: slowEndpoints, authenticator: authenticator, validFor: validFor) }
                }
                // Twice a second: a sleep of one second plus the count's own time skipped a
                // second now and then, which then read as no client connected.
                background.addTask {
                    while !Task.isCancelled {
                        ledger.sampleConnected(clients.count { $0.state == .open }, second: second())
                        try? await Task.sleep(for: .milliseconds(500))
                    }
                }
                for client in clients { _ = try? await client.connected() }
                if progress {
                    // Flushed: ops/chaos.sh waits for this line to start its faults.
                    print("chaos: \(clients.count) clients connected after \(second()) s; pushing \(Int(rate))/s for \(Int(duration)) s")
                    fflush(nil)
                }
                let loadStart = MonotonicClock.nanoseconds()
                let total = Int(rate * duration)
                let inputEnded = InputEnd()
                let audits = Mutex<[Task<ChaosReport.PresenceCheck, Never>]>([])
                if untilInputEnds {
                    // Not a child task: a read of stdin cannot be cancelled, and the run must
                    // not wait for it at the end.
                    let audit = PresenceAudit(clients: clients, gateway: auditGateway, gateways: gateways.count)
                    Task {
                        for await line in StandardInput.lines() {
                            let words = line.split(separator: " ", maxSplits: 1).map(String.init)
                            guard words.first == "presence" else {
                                print("chaos: unknown command '\(line)' (known: presence <label>)")
                                continue
                            }
                            let label = words.count > 1 ? words[1] : "presence"
                            let at = second()
                            audits.withLock {
                                $0.append(Task {
                                    let (first, cleanAfter, sweeps) = await audit.run()
                                    let check = ChaosReport.PresenceCheck(
                                        label: label, t: at, ghosts: first.ghosts, missing: first.missing, unanswered: first.unanswered,
                                        cleanAfter: cleanAfter, sweeps: sweeps
                                    )
                                    // Flushed: ops/chaos.sh waits for this line before its next fault.
                                    print("presence \(label): \(check)")
                                    fflush(nil)
                                    return check
                                })
                            }
                        }
                        inputEnded.set()
                    }
                }
                if callRate > 0 {
                    background.addTask {
                        await withDiscardingTaskGroup { calls in
                            var n = 0
                            while !Task.isCancelled, !inputEnded.isSet, MonotonicClock.nanoseconds() - loadStart < Int64(duration * 1e9) {
                                let due = loadStart + Int64(Double(n) / callRate * 1e9)
                                let wait = due - MonotonicClock.nanoseconds()
                                if wait > 0 { try? await Task.sleep(for: .nanoseconds(wait)) }
                                n += 1
                                let client = clients[Int.random(in: 0..<clients.count)]
                                let at = second()
                                calls.addTask {
                                    do {
                                        _ = try await client.call(.locationUpdate, .with { $0.latitude = 52.5; $0.longitude = 13.4 }, timeout: .seconds(5))
                                        ledger.called(second: at, error: nil)
                                    } catch let error as SwitchboardClientError {
                                        ledger.called(second: at, error: error.code)
                                    } catch {
                                        ledger.called(second: at, error: "other")
                                    }
                                }
                            }
                        }
                    }
                }
                if slowReaders > 0, slowPushRate > 0 {
                    background.addTask {
                        let padding = String(repeating: "s", count: 2048)
                        let inFlight = InFlight(nodes: gateways.count, limit: 30)
                        await withDiscardingTaskGroup { pushes in
                            var n = 0
                            while !Task.isCancelled, !inputEnded.isSet {
                                let wait = loadStart + Int64(Double(n) / slowPushRate * 1e9) - MonotonicClock.nanoseconds()
                                if wait > 0 { try? await Task.sleep(for: .nanoseconds(wait)) }
                                let via = n % gateways.count
                                n += 1
                                guard inFlight.take(via) else { continue }
                                let user = SlowReaders.user(Int.random(in: 0..<slowReaders))
                                let marker = DeliveryMarker(source: Self.slowSource, target: 0, sequence: n, sentAt: MonotonicClock.nanoseconds())
                                pushes.addTask {
                                    defer { inFlight.release(via) }
                                    let outcome = try? await gateway.pushOutcome(via: via, to: user, content: marker.content(padding: padding, json: false), durable: false)
                                    slow.pushed(delivered: outcome.map { !$0.offline } ?? false)
                                }
                            }
                        }
                    }
                }
                if broadcastEvery > 0 {
                    background.addTask {
                        var n = 0
                        while !Task.isCancelled, !inputEnded.isSet {
                            try? await Task.sleep(for: .seconds(broadcastEvery))
                            guard !inputEnded.isSet else { break }
                            let number = ledger.broadcastSent(second: second(), open: clients.count { $0.state == .open })
                            let marker = DeliveryMarker(source: Self.broadcastSource, target: 0, sequence: number, sentAt: MonotonicClock.nanoseconds())
                            do {
                                try await gateway.broadcast(via: n % gateways.count, data: marker.data(padding: ""))
                            } catch {
                                ledger.broadcastRefused(number)
                            }
                            n += 1
                        }
                    }
                }
                // Calls in flight per node, as a backend bounds them: a node's HTTP/2 connection
                // takes 100 streams at once, and the client library holds more back unopened.
                let inFlight = InFlight(nodes: gateways.count, limit: Self.maxInFlightPerNode)
                try await withThrowingDiscardingTaskGroup { pushes in
                    for n in 0..<total where !inputEnded.isSet {
                        let due = loadStart + Int64(Double(n) / rate * 1e9)
                        let wait = due - MonotonicClock.nanoseconds()
                        if wait > 0 { try await Task.sleep(for: .nanoseconds(wait)) }
                        let via = n % gateways.count
                        // Past the bound the push waits (and is booked when it goes).
                        while !inFlight.take(via), !inputEnded.isSet {
                            try await Task.sleep(for: .milliseconds(1))
                        }
                        let durable = n % 2 == 0
                        let user = Int.random(in: 0..<clients.count)
                        let sequence = ledger.sent(second: second(), durable: durable, target: user)
                        let marker = DeliveryMarker(source: 0, target: user, sequence: sequence, sentAt: MonotonicClock.nanoseconds())
                        pushes.addTask {
                            defer { inFlight.release(via) }
                            do {
                                let outcome = try await gateway.pushOutcome(
                                    via: via, to: Self.user(user), content: marker.content(padding: "", json: false), durable: durable
                                )
                                ledger.answered(sequence, outcome.stored || !outcome.offline ? .owed : .offline)
                            } catch let error as RPCError {
                                ledger.answered(sequence, .refused, refusal: "\(error.code)")
                            } catch {
                                ledger.answered(sequence, .refused, refusal: "other")
                            }
                        }
                    }
                }
                if progress {
                    print("chaos: load done at \(second()) s; up to \(Int(settle)) s for late deliveries")
                    fflush(nil)
                }
                var presenceChecks: [ChaosReport.PresenceCheck] = []
                for audit in audits.withLock({ $0 }) { presenceChecks.append(await audit.value) }
                let settleStart = ContinuousClock.now
                while ContinuousClock.now - settleStart < .seconds(settle) {
                    try await Task.sleep(for: .milliseconds(500))
                    if ContinuousClock.now - settleStart >= .seconds(5), ledger.settled { break }
                }
                background.cancelAll()
                return presenceChecks
            }
        } }
        var report = ChaosReport(ledger: ledger, startedAtEpoch: startedAtEpoch, clients: clients.count, rate: rate)
        report.presence = presenceChecks
        if slowReaders > 0 { report.slowReaders = slow.snapshot }
        return report
    }

    /// `url` with its host replaced.
    static func url(_ url: String, host: String) throws -> String {
        guard let scheme = url.firstRange(of: "://"), let colon = url[scheme.upperBound...].firstIndex(where: { $0 == ":" || $0 == "/" }) else {
            throw BenchError("cannot read the host of \(url)")
        }
        return String(url[..<scheme.upperBound]) + host + String(url[colon...])
    }

    static func user(_ index: Int) -> String { "chaos-\(index)" }

    /// The marker source of broadcasts (pushes to one user have 0) and of pushes to slow readers.
    static let broadcastSource = 1
    static let slowSource = 2

    /// Push calls in flight through one node at most.
    static let maxInFlightPerNode = 90

    /// Push calls in flight per node, bounded.
    private final class InFlight: Sendable {
        private let counts: Mutex<[Int]>
        private let limit: Int

        init(nodes: Int, limit: Int) {
            counts = Mutex(Array(repeating: 0, count: nodes))
            self.limit = limit
        }

        /// One more through `node`, unless it has `limit` already.
        func take(_ node: Int) -> Bool {
            counts.withLock { counts in
                guard counts[node] < limit else { return false }
                counts[node] += 1
                return true
            }
        }

        func release(_ node: Int) {
            counts.withLock { $0[node] -= 1 }
        }
    }

    /// Set once stdin has closed.
    private final class InputEnd: Sendable {
        private let value = Atomic<Bool>(false)
        var isSet: Bool { value.load(ordering: .relaxed) }
        func set() { value.store(true, ordering: .relaxed) }
    }

    static func epochSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
