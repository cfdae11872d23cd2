import Histogram
import Synchronization

/// Latencies recorded from many event loops into one HdrHistogram (microsecond buckets,
/// 3 significant digits, up to 60 s): a lock per record is cheap next to a socket read.
final class LatencyHistogram: Sendable {
    private let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))

    func record(nanoseconds: Int64) {
        let micros = UInt64(max(nanoseconds, 0) / 1000)
        _ = histogram.withLock { $0.record(min(micros, 60_000_000)) }
    }

    var summary: LatencySummary {
        histogram.withLock { LatencySummary($0) }
    }
}
