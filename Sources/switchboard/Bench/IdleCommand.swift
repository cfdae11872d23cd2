import ArgumentParser
import Bench
import Foundation

/// `switchboard bench idle`: memory per idle connection.
struct IdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle", abstract: "Hold idle connections and report each node's resident memory per connection."
    )
    @OptionGroup var options: BenchOptions
    @Option(help: "Connections to hold, spread over --urls.") var connections: Int = 1000
    @Option(help: "Generator processes to spread them over (each may hold at most its open-file limit).") var processes: Int = 1
    @Option(help: "Seconds to wait after the last connect before reading memory.") var settle: Double = 2
    @Option(help: "Seconds to keep the connections open after reading memory.") var hold: Double = 0

    func run() async throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        for run in 1...max(options.runs, 1) {
            let result = try await IdleBenchmark(
                endpoints: try options.endpoints(), secret: try options.secret(), connections: connections, processes: processes,
                sources: try options.sourceAddresses(), settle: .milliseconds(Int64(settle * 1000)), hold: .milliseconds(Int64(hold * 1000)),
                workerCommand: [executable, "bench", "idle-worker"]
            ).run()
            print("run \(run): \(result)")
        }
    }
}

/// One generator process of `bench idle --processes N`; not meant to be run by hand.
struct IdleWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle-worker", abstract: "(internal) Hold a share of `bench idle`'s connections until stdin closes.", shouldDisplay: false
    )
    @OptionGroup var options: BenchOptions
    @Option var userPrefix: String
    @Option var first: Int
    @Option var count: Int

    func run() async throws {
        try await IdleBenchmark.work(
            endpoints: try options.endpoints(), secret: try options.secret(), userPrefix: userPrefix, first: first, count: count,
            sources: try options.sourceAddresses()
        )
    }
}
