import ArgumentParser
import Bench

/// `switchboard bench send`: clients sending to random users.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Clients send to random users; several --cross-node shares run alternately in one invocation, the first is the baseline."
    )
    @OptionGroup var options: BenchOptions
    @Option(help: "Connected clients, spread over --urls.") var clients: Int = 1000
    @Option(parsing: .upToNextOption, help: "Share(s) of messages sent to a user on another node, 0…1 (e.g. --cross-node 0 1).")
    var crossNode: [Double] = [0]
    @Option(help: "Closed loop: most messages in flight per sender.") var window: Int = 16
    @Option(help: "Open loop: messages per second offered in all (instead of --window).") var rate: Double?
    @Option(help: "Open loop at this fraction of the peak, measured by a closed-loop run just before (e.g. 0.5).")
    var rateOfPeak: Double?
    @Option(help: "Messages per run (ignored with --duration).") var messages: Int = 100_000
    @Option(help: "Seconds per run instead of a message count.") var duration: Double?
    @Option(help: "Padding bytes per message.") var payload: Int = 64
    @Option(help: "Frames: json or protobuf.") var format: String = "json"
    @Flag(help: "Do not fail the run when messages are lost (for runs with faults).") var allowLoss = false

    func run() async throws {
        guard let format = BenchFormat(rawValue: format) else { throw ValidationError("--format is json or protobuf") }
        let stop: BenchStop = duration.map { .duration(seconds: $0) } ?? .messages(messages)
        let endpoints = try options.endpoints()
        var reporter = BenchReporter(allowLoss: allowLoss)
        func benchmark(_ share: Double, _ load: BenchLoad) throws -> SendBenchmark {
            var benchmark = SendBenchmark(
                endpoints: endpoints, secret: try options.secret(), clients: clients, crossNodeShare: share, load: load, stop: stop,
                payloadBytes: payload, format: format, sources: try options.sourceAddresses(), progress: true
            )
            benchmark.otherServerPorts = options.measurePorts
            return benchmark
        }
        for run in 1...max(options.runs, 1) {
            for share in crossNode {
                if let fraction = rateOfPeak {
                    let peak = try await benchmark(share, .closedLoop(window: window)).run()
                    try reporter.add(peak, run: run)
                    var open = try benchmark(share, .openLoop(messagesPerSecond: peak.deliveredPerSecond * fraction))
                    open.loadName = "open loop at \(fraction) × peak"
                    try reporter.add(try await open.run(), run: run)
                } else {
                    try reporter.add(try await benchmark(share, rate.map { .openLoop(messagesPerSecond: $0) } ?? .closedLoop(window: window)).run(), run: run)
                }
            }
        }
        try reporter.finish(options: options, title: "send latency (\(clients) clients, \(endpoints.count) nodes)")
    }
}
