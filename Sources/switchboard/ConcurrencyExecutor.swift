import ArgumentParser
import NIOCore
import NIOPosix

/// Where Swift concurrency runs the server commands' tasks: Swift's own pool (the
/// default) or NIO's event loops (`SWITCHBOARD_CONCURRENCY_EXECUTOR=nio`).
///
/// Backend calls and the Gateway API are async all the way (grpc-swift-2) while their
/// sockets live on NIO's event loops. With the event loops as the global executor a task
/// started on a loop stays there: 20 → 6 context switches per Gateway API call. But the
/// CPU per call did not fall with them, and with 64 calls in flight it rose from 218 to
/// 333 µs per push (throughput −30 %), so Swift's pool stays the default
/// (docs/benchmarks.md § Backend calls and Gateway API pushes).
enum ConcurrencyExecutor {
    /// The commands that serve traffic: `node` and `backends`.
    static let servingCommands: Set<String> = ["node", "backends"]

    /// Installs NIO's event loops as the global executor for a serving command when
    /// `SWITCHBOARD_CONCURRENCY_EXECUTOR=nio` asks for them. Runs first thing on the main
    /// thread, before any task exists.
    static func installIfServing(arguments: [String], environment: [String: String]) throws(ValidationError) {
        guard arguments.count > 1, servingCommands.contains(arguments[1]) else { return }
        switch environment["SWITCHBOARD_CONCURRENCY_EXECUTOR"] ?? "swift" {
        case "nio": NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        case "swift": return
        case let other: throw ValidationError("SWITCHBOARD_CONCURRENCY_EXECUTOR is swift (the default) or nio, not '\(other)'")
        }
    }
}
