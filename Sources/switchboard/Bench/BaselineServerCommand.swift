import ArgumentParser
import Bench

/// `switchboard bench baseline-server`: the bare-NIO WebSocket server that idle runs
/// compare a node against.
struct BaselineServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline-server",
        abstract: "A bare SwiftNIO WebSocket server (no auth, no routing, no task per connection), as a memory baseline for `bench idle`."
    )
    @Option(help: "Port to listen on (127.0.0.1).") var port: Int = 18900

    func run() async throws {
        try await BaselineServer.run(port: port)
    }
}
