import ArgumentParser
import Bench

/// `switchboard bench fanout`: publishes to topics, each delivered to every subscriber.
struct FanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "Clients subscribe to topics and publish to them: one big topic, or many small ones; counts every delivery to every subscriber.",
        discussion: "The nodes need a namespace any client may subscribe and publish in without joins (each join is a push to every subscriber): --namespace, default bench, e.g. `switchboard cluster --topic-namespaces bench:subscribe=any,publish=any`."
    )
    @OptionGroup var options: BenchOptions
    @Option(help: "Connected clients, spread over --urls.") var clients: Int = 10_000
    @Option(help: "Topics.") var topics: Int = 1
    @Option(help: "Subscribers per topic (at most --clients); default: every client.") var subscribers: Int?
    @Option(parsing: .upToNextOption, help: "Loads to run in turn: 'closed' (one publish per topic not yet fully delivered) or an offered rate in publishes/s.")
    var loads: [String] = ["closed"]
    @Option(help: "Seconds per run.") var duration: Double = 8
    @Option(help: "Padding bytes per message.") var payload: Int = 64
    @Option(help: "The topics' namespace.") var namespace: String = "bench"

    func run() async throws {
        let loads = try self.loads.map { load -> BenchLoad in
            if load == "closed" { return .closedLoop(window: 1) }
            guard let rate = Double(load), rate > 0 else { throw ValidationError("--loads: '\(load)' is neither 'closed' nor a rate in publishes/s") }
            return .openLoop(messagesPerSecond: rate)
        }
        var reporter = BenchReporter()
        for run in 1...max(options.runs, 1) {
            for load in loads {
                var benchmark = FanoutBenchmark(
                    endpoints: try options.endpoints(), secret: try options.secret(), clients: clients, topics: topics,
                    subscribersPerTopic: subscribers ?? clients, load: load, seconds: duration, payloadBytes: payload,
                    sources: try options.sourceAddresses(), progress: true, namespace: namespace
                )
                benchmark.otherServerPorts = options.measurePorts
                try reporter.add(try await benchmark.run(), run: run)
            }
        }
        try reporter.finish(options: options, title: "fanout latency (publish → every subscriber)")
    }
}
