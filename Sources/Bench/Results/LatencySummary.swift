import Histogram

/// The latency percentiles a run reports, in microseconds, and the curve for the chart.
package struct LatencySummary: Sendable, Codable, CustomStringConvertible {
    package let count: UInt64
    package let p50: UInt64
    package let p90: UInt64
    package let p99: UInt64
    package let p999: UInt64
    package let max: UInt64
    /// (percentile, µs) points of the whole distribution, for the latency chart.
    package let curve: [[Double]]

    init(_ histogram: Histogram<UInt64>) {
        count = histogram.totalCount
        p50 = histogram.valueAtPercentile(50)
        p90 = histogram.valueAtPercentile(90)
        p99 = histogram.valueAtPercentile(99)
        p999 = histogram.valueAtPercentile(99.9)
        max = histogram.max
        var curve: [[Double]] = []
        if histogram.totalCount > 0 {
            for step in histogram.percentiles(ticksPerHalfDistance: 5) {
                curve.append([step.percentileLevelIteratedTo, Double(step.value)])
                if step.percentileLevelIteratedTo >= 99.999 { break }
            }
        }
        self.curve = curve
    }

    package var description: String {
        "p50 \(Self.format(p50)), p90 \(Self.format(p90)), p99 \(Self.format(p99)), p99.9 \(Self.format(p999)), max \(Self.format(max))"
    }

    static func format(_ micros: UInt64) -> String {
        micros >= 10_000 ? "\(micros / 1000) ms" : micros >= 1000 ? "\(String(format2: Double(micros) / 1000)) ms" : "\(micros) µs"
    }
}

extension LatencySummary {
    init(nanoseconds samples: [Int64]) {
        let recorder = LatencyHistogram()
        for sample in samples { recorder.record(nanoseconds: sample) }
        self = recorder.summary
    }
}
