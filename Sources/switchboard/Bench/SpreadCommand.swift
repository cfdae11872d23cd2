import ArgumentParser
import Bench

/// `switchboard bench spread`: real chat traffic — every client a sender with at most one
/// message in flight, each to a random user — where batching cannot hide a per-message
/// cost. Closed loop (as fast as one-in-flight allows), then each offered rate.
struct SpreadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spread",
        abstract: "Every client sends with at most one message in flight, to random users: closed loop, then fixed offered rates."
    )
    @OptionGroup var options: BenchOptions
    @Option(
        parsing: .upToNextOption,
        help: "Connected clients, spread over --urls; every one of them sends. Several run in turn (e.g. --clients 1000 5000 19000)."
    )
    var clients: [Int] = [1000]
    @Option(parsing: .upToNextOption, help: "Share(s) of messages sent to a user on another node, 0…1 (e.g. --cross-node 0 0.5 1).")
    var crossNode: [Double] = [0.5]
    @Option(parsing: .upToNextOption, help: "Loads to run in turn: 'closed' (closed loop, one in flight per sender) or an offered rate in msg/s.")
    var loads: [String] = ["closed", "1000", "5000"]
    @Option(help: "Seconds per run.") var duration: Double = 10
    @Option(help: "Padding bytes per message.") var payload: Int = 64
    @Option(help: "Frames: json or protobuf.") var format: String = "json"
    @Option(parsing: .upToNextOption, help: "Send kinds to run in turn, e.g. 'message note' with the nodes' durable-kinds set to note: plain against durable pushes.")
    var kinds: [String] = ["message"]

    func run() async throws {
        guard let format = BenchFormat(rawValue: format) else { throw ValidationError("--format is json or protobuf") }
        let endpoints = try options.endpoints()
        var reporter = BenchReporter()
        let loads = try self.loads.map { load -> (BenchLoad, String) in
            if load == "closed" { return (.closedLoop(window: 1), "spread closed loop") }
            guard let rate = Double(load), rate > 0 else { throw ValidationError("--loads: '\(load)' is neither 'closed' nor a rate in msg/s") }
            return (.openLoop(messagesPerSecond: rate), "spread at \(Int(rate)) msg/s")
        }
        // Every combination, each run in turn.
        let combinations = clients.flatMap { count in
            crossNode.flatMap { share in loads.flatMap { load in kinds.map { (count, share, load, $0) } } }
        }
        for run in 1...max(options.runs, 1) {
            for (count, share, (load, name), kind) in combinations {
                var benchmark = SendBenchmark(
                    endpoints: endpoints, secret: try options.secret(), clients: count, crossNodeShare: share, load: load,
                    stop: .duration(seconds: duration), payloadBytes: payload, format: format, sources: try options.sourceAddresses(),
                    progress: true
                )
                benchmark.loadName = name
                benchmark.kind = kind == "message" ? nil : kind
                benchmark.otherServerPorts = options.measurePorts
                try reporter.add(try await benchmark.run(), run: run)
            }
        }
        let senders = clients.map { String($0) }.joined(separator: ", ")
        try reporter.finish(options: options, title: "spread latency (\(senders) senders, one in flight each, \(endpoints.count) nodes)")
    }
}
