#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What one run of a delivery scenario (send, push, broadcast) measured; written as JSON
/// with `--output`.
public struct BenchResult: Sendable, Codable, CustomStringConvertible {
    public let scenario: String
    public let label: String
    public let clients: Int
    public let nodes: Int
    public let format: String
    public let payloadBytes: Int
    public let load: String
    public let stop: String
    public let seconds: Double
    public let deliveredPerSecond: Double
    public let tally: DeliveryTally
    public let latency: LatencySummary
    public let nodeUsage: [NodeProcess.Usage]

    public var description: String {
        var lines = [
            "\(label): \(Int(deliveredPerSecond)) msg/s delivered over \(String(format2: seconds)) s; \(tally)",
            "  latency \(latency)",
        ]
        lines += nodeUsage.map { "  \($0)" }
        return lines.joined(separator: "\n")
    }

    /// Writes `results` as one JSON document (and nothing when `path` is nil).
    public static func write(_ results: [BenchResult], to path: String?) throws {
        guard let path else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(results).write(to: URL(fileURLWithPath: path))
    }
}
