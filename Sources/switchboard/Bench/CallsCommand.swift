import ArgumentParser
import Bench

/// `switchboard bench calls`: backend calls through a node.
struct CallsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls", abstract: "Round-trip backend calls/s (location.update) through node → backend → node, closed loop."
    )
    @OptionGroup var options: BenchOptions
    @Option(help: "Concurrent clients, each with one call in flight.") var clients: Int = 1
    @Option(help: "Calls each client makes.") var calls: Int = 2000
    @Option(help: "location.update (through the Location backend) or ping (the node alone: the baseline).")
    var operation: String = "location.update"

    func run() async throws {
        guard let operation = CallsBenchmark.Operation(rawValue: operation) else {
            throw ValidationError("--operation is location.update or ping")
        }
        var benchmark = CallsBenchmark(
            url: options.urls[0], secret: try options.secret(), clients: clients, callsPerClient: calls, operation: operation
        )
        benchmark.otherServerPorts = options.measurePorts
        try await BenchCommand.repeatRuns(options.runs, unit: "calls/s") {
            let result = try await benchmark.run()
            guard result.failures == 0 else { throw BenchError("\(result): \(result.failures) calls failed") }
            return (result.description, result.callsPerSecond)
        }
    }
}
