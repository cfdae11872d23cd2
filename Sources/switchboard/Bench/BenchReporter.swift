import ArgumentParser
import Bench
import Foundation

/// Collects the results of repeated runs, prints each, then the median run per label and
/// its ratio to the first label's (the baseline measured in the same invocation), and
/// writes the JSON file and the chart.
struct BenchReporter {
    private var results: [BenchResult] = []
    private var labels: [String] = []
    let allowLoss: Bool

    init(allowLoss: Bool = false) {
        self.allowLoss = allowLoss
    }

    mutating func add(_ result: BenchResult, run: Int) throws {
        print("run \(run): \(result)")
        collect(result)
        if !allowLoss, !result.tally.isClean {
            throw BenchError("\(result.label): \(result.tally) — every message must arrive exactly once where it was sent")
        }
    }

    /// Files a result without printing or judging it.
    mutating func collect(_ result: BenchResult) {
        results.append(result)
        if !labels.contains(result.label) { labels.append(result.label) }
    }

    func medians() -> [BenchResult] {
        labels.map { label in
            let runs = results.filter { $0.label == label }.sorted { $0.deliveredPerSecond < $1.deliveredPerSecond }
            return runs[runs.count / 2]
        }
    }

    func finish(options: BenchOptions, title: String) throws {
        let medians = medians()
        guard let baseline = medians.first else { return }
        print("medians of \(results.count / max(labels.count, 1)) run(s):")
        for median in medians {
            let ratio = median.deliveredPerSecond / baseline.deliveredPerSecond
            print("  \(median.label): \(Int(median.deliveredPerSecond)) msg/s (\(String(format: "%.2f", ratio))× the first), latency \(median.latency)")
        }
        try BenchResult.write(results, to: options.output)
        if let chart = options.chart {
            let svg = LatencyChart.svg(title: title, series: medians.map { LatencyChart.Series(name: $0.label, latency: $0.latency) })
            try svg.write(toFile: chart, atomically: true, encoding: .utf8)
        }
    }
}
