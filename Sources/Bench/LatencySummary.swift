/// Percentiles of a set of latency samples, in microseconds.
public struct LatencySummary: Sendable, CustomStringConvertible {
    public let count: Int
    public let p50: Double
    public let p99: Double
    public let max: Double

    init(nanoseconds samples: [Int64]) {
        let sorted = samples.sorted()
        count = sorted.count
        func at(_ q: Double) -> Double {
            sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) / 1000
        }
        p50 = at(0.50)
        p99 = at(0.99)
        max = sorted.last.map { Double($0) / 1000 } ?? 0
    }

    public var description: String {
        "p50 \(Int(p50)) µs, p99 \(Int(p99)) µs, max \(Int(max)) µs over \(count) samples"
    }
}
