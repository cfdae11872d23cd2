import ArgumentParser
import Bench

/// `switchboard bench push`: backends pushing through the Gateway gRPC API.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Push to random users through the nodes' Gateway gRPC API, as backends do."
    )
    @OptionGroup var options: BenchOptions
    @OptionGroup var gateway: GatewayOptions
    @Option(help: "Connected clients, spread over --urls.") var clients: Int = 1000
    @Option(help: "Push calls in flight.") var concurrency: Int = 64
    @Option(help: "Open loop: pushes per second offered in all.") var rate: Double?
    @Option(help: "Pushes per run (ignored with --duration).") var messages: Int = 50_000
    @Option(help: "Seconds per run instead of a count.") var duration: Double?
    @Option(help: "Padding bytes per message.") var payload: Int = 64
    @Option(help: "Frames: json or protobuf.") var format: String = "json"
    @Flag(help: "Push over one PushStream per Gateway API, --concurrency pushes in flight on it, instead of unary calls.")
    var stream = false
    @Flag(help: "Pushes carry their data as JSON text (dataJson) instead of a google.protobuf.Value.")
    var dataJson = false

    func run() async throws {
        guard let format = BenchFormat(rawValue: format) else { throw ValidationError("--format is json or protobuf") }
        var benchmark = PushBenchmark(
            endpoints: try options.endpoints(), gateways: try gateway.endpoints(), secret: try options.secret(), pushSecret: try gateway.secret(),
            clients: clients, concurrency: concurrency, rate: rate, stop: duration.map { .duration(seconds: $0) } ?? .messages(messages),
            payloadBytes: payload, format: format, sources: try options.sourceAddresses(), progress: true
        )
        benchmark.otherServerPorts = options.measurePorts
        benchmark.streamed = stream
        benchmark.dataJSON = dataJson
        var reporter = BenchReporter()
        for run in 1...max(options.runs, 1) { try reporter.add(try await benchmark.run(), run: run) }
        try reporter.finish(options: options, title: "push latency (Gateway API → client)")
    }
}
