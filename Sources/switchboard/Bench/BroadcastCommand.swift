import ArgumentParser
import Bench

/// `switchboard bench broadcast`: one message to every connection.
struct BroadcastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast", abstract: "Broadcast through the Gateway API to every connected client; counts every delivery."
    )
    @OptionGroup var options: BenchOptions
    @OptionGroup var gateway: GatewayOptions
    @Option(help: "Connected clients, spread over --urls.") var clients: Int = 10_000
    @Option(help: "Broadcasts per run.") var broadcasts: Int = 50
    @Option(help: "Broadcasts not yet fully delivered, at most.") var window: Int = 1
    @Option(help: "Padding bytes per message.") var payload: Int = 64

    func run() async throws {
        var benchmark = BroadcastBenchmark(
            endpoints: try options.endpoints(), gateways: try gateway.endpoints(), secret: try options.secret(), pushSecret: try gateway.secret(),
            clients: clients, broadcasts: broadcasts, window: window, payloadBytes: payload, sources: try options.sourceAddresses(),
            progress: true
        )
        benchmark.otherServerPorts = options.measurePorts
        var reporter = BenchReporter()
        for run in 1...max(options.runs, 1) { try reporter.add(try await benchmark.run(), run: run) }
        try reporter.finish(options: options, title: "broadcast latency (Gateway API → every client)")
    }
}
