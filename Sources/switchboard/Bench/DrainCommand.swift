import ArgumentParser
import Bench

/// `switchboard bench drain`: a node leaving under load.
struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Connect clients to the first URL's node, SIGTERM it, and reconnect every client it closes with 1012 to the other nodes."
    )
    @OptionGroup var options: BenchOptions
    @Option(help: "Clients on the node that is drained.") var clients: Int = 1000

    func run() async throws {
        let endpoints = try options.endpoints()
        guard endpoints.count >= 2 else { throw ValidationError("--urls needs the node to drain, then at least one to reconnect to") }
        let result = try await DrainBenchmark(
            drained: endpoints[0], others: Array(endpoints.dropFirst()), secret: try options.secret(), clients: clients,
            sources: try options.sourceAddresses()
        ).run()
        print(result)
        guard result.reconnected == clients, result.otherCloses == 0, result.exitedAfter != nil else {
            throw BenchError("the drain lost clients or closed them without 1012, or the node did not exit: \(result)")
        }
    }
}
