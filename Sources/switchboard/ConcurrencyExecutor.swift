import ArgumentParser
import NIOCore
import NIOPosix

/// Where Swift concurrency runs the server commands' tasks.
///
/// Backend calls and the Gateway API are async all the way (grpc-swift-2), and their
/// sockets live on NIO's event loops. With Swift's own pool each call crossed between the
/// two several times: ~19 context switches and ~460 µs of node CPU per Gateway API call
/// (docs/benchmarks.md § Backend calls). With the event loops as the global executor a task
/// started on a loop stays on it, and a continuation resumed by a loop runs there.
enum ConcurrencyExecutor {
    /// The commands that serve traffic: `node` and `backends`.
    static let servingCommands: Set<String> = ["node", "backends"]

    /// Installs NIO's event loops as the global executor for a serving command, unless
    /// `SWITCHBOARD_CONCURRENCY_EXECUTOR=swift` asks for Swift's pool (to measure both ways).
    /// Runs first thing on the main thread, before any task exists.
    static func installIfServing(arguments: [String], environment: [String: String]) throws(ValidationError) {
        guard arguments.count > 1, servingCommands.contains(arguments[1]) else { return }
        switch environment["SWITCHBOARD_CONCURRENCY_EXECUTOR"] ?? "nio" {
        case "nio": NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        case "swift": return
        case let other: throw ValidationError("SWITCHBOARD_CONCURRENCY_EXECUTOR is nio (the default) or swift, not '\(other)'")
        }
    }
}
