#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// A chaos run second by second (by when pushes were sent) and in all: what `ops/chaos.sh`
/// lays its faults over. A push is *lost* when it was owed (a durable one stored, a plain
/// one delivered to a connection) and never reached its client; *duplicated* when it reached
/// it more than once after the client library's dedupe.
package struct ChaosReport: Codable, Sendable, CustomStringConvertible {
    package struct Second: Codable, Sendable {
        /// Seconds since the start.
        package var t: Int
        package var sent = 0
        package var owed = 0
        package var refused = 0
        package var offline = 0
        package var durableLost = 0
        package var durableDuplicated = 0
        package var plainLost = 0
        package var plainDuplicated = 0
        /// Owed pushes that arrived.
        package var delivered = 0
        /// Pushes that arrived in this second (whenever sent).
        package var received = 0
        package var connected = 0
        /// Backend calls made in this second, and those that failed.
        package var calls = 0
        package var failedCalls = 0
        /// Of this second's owed pushes that arrived, in milliseconds.
        package var p50: Double?
        package var p99: Double?
    }

    package var startedAtEpoch: Double
    package var clients: Int
    package var rate: Double
    package var seconds: [Second]
    package var refusals: [String: Int]
    /// Failed backend calls by error code.
    package var callErrors: [String: Int]
    package var misdelivered: Int
    /// The first durable pushes lost (at most 20): which, to whom, when.
    package var lostDurable: [LostPush]

    /// Topic-less broadcasts through the Gateway API, in order.
    package var broadcasts: [Broadcast]

    package struct Broadcast: Codable, Sendable {
        /// Seconds since the start, when it was sent.
        package var t: Int
        /// Clients open when it was sent, and those that received it.
        package var open: Int
        package var received: Int
        package var refused: Bool
    }

    /// The slow readers' run, when there were any.
    package var slowReaders: SlowReadersTally?

    /// Presence audits the fault script asked for, in order (`PresenceAudit`).
    package var presence: [PresenceCheck] = []

    package struct PresenceCheck: Codable, Sendable, CustomStringConvertible {
        package var label: String
        /// Seconds since the start, when it was asked for.
        package var t: Int
        /// What the first sweep found.
        package var ghosts: Int
        package var missing: Int
        package var unanswered: Int
        /// Seconds until a sweep found nothing wrong; nil: not within the audit's limit.
        package var cleanAfter: Double?
        package var sweeps: Int

        package var description: String {
            "first sweep \(ghosts) ghosts, \(missing) missing, \(unanswered) unanswered; "
                + (cleanAfter.map { "correct after \(Int($0.rounded())) s (\(sweeps) sweeps)" } ?? "NOT correct after \(sweeps) sweeps")
        }
    }

    package struct LostPush: Codable, Sendable {
        package var sequence: Int
        package var user: String
        package var t: Int
    }

    init(ledger: ChaosLedger, startedAtEpoch: Double, clients: Int, rate: Double) {
        self.startedAtEpoch = startedAtEpoch
        self.clients = clients
        self.rate = rate
        let state = ledger.snapshot
        let count = max(state.received.count, state.connected.count, state.calls.count, Int(state.pushes.last?.second ?? 0) + 1)
        var seconds = (0..<count).map { Second(t: $0) }
        var latencies = [[Int32]](repeating: [], count: count)
        var lostDurable: [LostPush] = []
        for (sequence, push) in state.pushes.enumerated() {
            if push.durable, push.answer == .owed, push.deliveries == 0, lostDurable.count < 20 {
                lostDurable.append(LostPush(sequence: sequence, user: ChaosBenchmark.user(Int(push.target)), t: Int(push.second)))
            }
            let t = Int(push.second)
            seconds[t].sent += 1
            switch push.answer {
            case .owed:
                seconds[t].owed += 1
                if push.deliveries == 0 {
                    if push.durable { seconds[t].durableLost += 1 } else { seconds[t].plainLost += 1 }
                } else {
                    seconds[t].delivered += 1
                    latencies[t].append(push.latencyMicroseconds)
                    if push.deliveries > 1 {
                        if push.durable { seconds[t].durableDuplicated += 1 } else { seconds[t].plainDuplicated += 1 }
                    }
                }
            case .refused, .pending: seconds[t].refused += 1
            case .offline: seconds[t].offline += 1
            }
        }
        for t in 0..<count {
            if t < state.received.count { seconds[t].received = state.received[t] }
            if t < state.connected.count { seconds[t].connected = state.connected[t] }
            if t < state.calls.count { (seconds[t].calls, seconds[t].failedCalls) = (state.calls[t], state.failedCalls[t]) }
            let sorted = latencies[t].sorted()
            if !sorted.isEmpty {
                seconds[t].p50 = Double(sorted[sorted.count / 2]) / 1000
                seconds[t].p99 = Double(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]) / 1000
            }
        }
        self.seconds = seconds
        refusals = state.refusals
        callErrors = state.callErrors
        misdelivered = state.misdelivered
        broadcasts = state.broadcasts.map { Broadcast(t: $0.second, open: $0.open, received: $0.received, refused: $0.refused) }
        self.lostDurable = lostDurable
    }

    package var description: String {
        func sum(_ key: KeyPath<Second, Int>) -> Int { seconds.reduce(0) { $0 + $1[keyPath: key] } }
        return "chaos: \(sum(\.sent)) pushes sent, \(sum(\.owed)) owed, \(sum(\.delivered)) delivered; "
            + "durable lost \(sum(\.durableLost)), duplicated \(sum(\.durableDuplicated)); plain lost \(sum(\.plainLost)), duplicated \(sum(\.plainDuplicated)); "
            + "misdelivered \(misdelivered); refused \(sum(\.refused))" + Self.byCode(refusals)
            + "; backend calls \(sum(\.calls)), failed \(sum(\.failedCalls))" + Self.byCode(callErrors)
            + "; broadcasts \(broadcasts.count), received \(broadcasts.reduce(0) { $0 + $1.received }) times by \(broadcasts.reduce(0) { $0 + $1.open }) clients open when sent"
            + (presence.contains { $0.cleanAfter == nil } ? "; presence not correct after " + presence.filter { $0.cleanAfter == nil }.map(\.label).joined(separator: ", ") : "")
            + (slowReaders.map { "; slow readers: \($0.sent) pushes delivered to their connections, \($0.read) read, \($0.cutAsSlow) cut as slow consumers" } ?? "")
            + (lostDurable.isEmpty ? "" : "; durable lost: " + lostDurable.map { "#\($0.sequence) to \($0.user) at \($0.t) s" }.joined(separator: ", "))
    }

    private static func byCode(_ counts: [String: Int]) -> String {
        counts.isEmpty ? "" : " (" + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
    }

    package func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }
}
