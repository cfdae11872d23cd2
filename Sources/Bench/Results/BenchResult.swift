#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What one run of a delivery scenario (send, push, broadcast) measured; written as JSON
/// with `--output`.
package struct BenchResult: Sendable, Codable, CustomStringConvertible {
    package let scenario: String
    package let label: String
    package let clients: Int
    package let nodes: Int
    package let format: String
    package let payloadBytes: Int
    package let load: String
    package let stop: String
    package let seconds: Double
    package let deliveredPerSecond: Double
    package let tally: DeliveryTally
    package let latency: LatencySummary
    package let nodeUsage: [ListeningProcess.Usage]
    /// CPU time of every measured server process (nodes, and Redis when named) per
    /// delivered message, in microseconds.
    package var serverMicrosecondsPerMessage: Double? {
        let delivered = tally.delivered
        guard delivered > 0, !nodeUsage.isEmpty else { return nil }
        return nodeUsage.reduce(0) { $0 + $1.cpuSeconds } / Double(delivered) * 1e6
    }

    package var description: String {
        var lines = [
            "\(label): \(Int(deliveredPerSecond)) msg/s delivered over \(String(format2: seconds)) s; \(tally)",
            "  latency \(latency)",
        ]
        lines += nodeUsage.map { "  \($0)" }
        if let cost = serverMicrosecondsPerMessage {
            lines.append("  server CPU per delivered message: \(String(format2: cost)) µs (\(nodeUsage.count) processes)")
            let switches = Double(nodeUsage.reduce(0) { $0 + $1.contextSwitches }) / Double(tally.delivered)
            lines.append("  server context switches per delivered message: \(String(format2: switches))")
        }
        return lines.joined(separator: "\n")
    }

    /// Writes `results` as one JSON document (and nothing when `path` is nil).
    package static func write(_ results: [BenchResult], to path: String?) throws {
        guard let path else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(results).write(to: URL(fileURLWithPath: path))
    }
}
