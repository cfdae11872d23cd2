import ArgumentParser
import Bench

/// `switchboard bench connect`: the connection ramp.
struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect", abstract: "Handshakes/s, token check included: connect, await the welcome, close."
    )
    @OptionGroup var options: BenchOptions
    @Option(help: "Connections to make.") var connections: Int = 5000
    @Option(help: "Handshakes in flight at once.") var concurrency: Int = 100

    func run() async throws {
        let benchmark = ConnectBenchmark(
            endpoints: try options.endpoints(), secret: try options.secret(), connections: connections, concurrency: concurrency,
            sources: try options.sourceAddresses()
        )
        try await BenchCommand.repeatRuns(options.runs, unit: "handshakes/s") {
            let result = try await benchmark.run()
            guard result.failures == 0 else { throw BenchError("\(result): \(result.failures) connections failed") }
            return (result.description, result.perSecond)
        }
    }
}
