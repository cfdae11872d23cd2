import ArgumentParser
import Bench
import Foundation

/// `switchboard bench chart`: redraws the latency chart of a results file, so the docs'
/// charts can be regenerated without running the load again.
struct ChartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chart", abstract: "Draw the latency chart (SVG) of the median runs in a --output results file."
    )
    @Option(help: "A JSON results file written by --output.") var input: String
    @Option(help: "The SVG file to write.") var output: String
    @Option(help: "Chart title.") var title: String = "latency"

    func run() async throws {
        let results = try JSONDecoder().decode([BenchResult].self, from: Data(contentsOf: URL(fileURLWithPath: input)))
        var reporter = BenchReporter(allowLoss: true)
        for result in results { reporter.collect(result) }
        let svg = LatencyChart.svg(title: title, series: reporter.medians().map { .init(name: $0.label, latency: $0.latency) })
        try svg.write(toFile: output, atomically: true, encoding: .utf8)
    }
}
