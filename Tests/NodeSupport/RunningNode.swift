import TestSupport
import SwitchboardWire
import Auth
import Foundation
import Logging
package import Node
package import Presence
package import BackendCalls
package import Routing
import ServiceLifecycle
import Synchronization

/// A real node on a free loopback port, served by its own ServiceGroup, as `switchboard
/// node` runs it (less the signal handling: `stop()` triggers the same graceful shutdown).
package final class RunningNode: Sendable {
    package static let secret = "test-secret-test-secret-test-secret-42"
    package static let pushSecret = "push-secret-for-tests-0001"

    package let port: Int
    /// Port of the node's Gateway gRPC API.
    package let grpcPort: Int
    /// Port of the node's admin listener, when `adminPort` was set.
    package let adminPort: Int?
    package let node: GatewayNode
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    /// Ends the node if its test outlives its time limit and does not stop it.
    private let watch: TestWatchdog.Guard

    package static func start(
        nodeID: String = "node-1",
        presence: (any PresenceDirectory)? = nil,
        bus: (any RelayBus)? = nil,
        routes: RouteTable = .standard,
        configure: (inout NodeConfiguration) -> Void = { _ in }
    ) async throws -> RunningNode {
        var configuration = NodeConfiguration(nodeID: nodeID, jwtSecret: secret, pushSecret: pushSecret)
        configuration.port = 0
        configuration.grpcPort = 0
        configuration.drainWindow = .seconds(3)
        configure(&configuration)
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let node = try await GatewayNode(configuration: configuration, presence: presence, bus: bus, routes: routes, logger: logger)
        try await node.claimNodeID()
        let (ports, portContinuation) = AsyncStream.makeStream(of: (GatewayNode.Listener, Int).self)
        let group = ServiceGroup(
            configuration: node.serviceGroupConfiguration(node.services(onListening: { portContinuation.yield(($0, $1)) }))
        )
        // If the node stops (a port taken, say), the stream ends and start() fails instead of hanging.
        let task = Task {
            defer { portContinuation.finish() }
            try await group.run()
        }
        let watch = TestWatchdog.shared.guarding("in-process node \(nodeID)") {
            Task { await group.triggerGracefulShutdown() }
            task.cancel()
        }
        var port: Int?
        var grpcPort: Int?
        var adminPort: Int?
        for await (listener, bound) in ports {
            switch listener {
            case .webSocket: port = bound
            case .gatewayAPI: grpcPort = bound
            case .admin: adminPort = bound
            }
            if port != nil, grpcPort != nil, (adminPort != nil) == (configuration.adminPort != nil) { break }
        }
        guard let port, let grpcPort else {
            defer { watch.release() }
            await group.triggerGracefulShutdown()
            do {
                try await task.value(within: .seconds(30), "the failed start of node \(nodeID)")
                throw TestFailure("node \(nodeID) did not start: its services stopped")
            } catch {
                throw TestFailure("node \(nodeID) did not start: \(error)")
            }
        }
        return RunningNode(port: port, grpcPort: grpcPort, adminPort: adminPort, node: node, group: group, task: task, watch: watch)
    }

    private init(
        port: Int, grpcPort: Int, adminPort: Int?, node: GatewayNode, group: ServiceGroup, task: Task<Void, any Error>, watch: TestWatchdog.Guard
    ) {
        self.port = port
        self.grpcPort = grpcPort
        self.adminPort = adminPort
        self.node = node
        self.group = group
        self.task = task
        self.watch = watch
    }

    package var url: String { "ws://127.0.0.1:\(port)/ws" }

    package func token(for user: String, validFor: Duration = .seconds(3600)) async throws -> String {
        try await Self.token(for: user, validFor: validFor)
    }

    package static func token(for user: String, validFor: Duration = .seconds(3600), topics: [String] = []) async throws -> String {
        try await TokenAuthenticator(secret: secret).issue(user: user, validFor: validFor, topics: topics)
    }

    /// `query` is added to the URL (e.g. `since=3&epoch=…`); `topics`: the token's topics claim.
    package func connect(
        _ user: String, format: TestWebSocket.Format = .json, readPaused: Bool = false, awaitWelcome: Bool = true, query: String? = nil,
        topics: [String] = []
    ) async throws -> TestWebSocket {
        let socket = try await TestWebSocket.connect(
            url: query.map { "\(url)?\($0)" } ?? url, token: Self.token(for: user, topics: topics), format: format, readPaused: readPaused,
            awaitWelcome: awaitWelcome
        )
        // The welcome waits at most 2 s for the user's channel to be subscribed; a machine
        // busy enough to pass that (seen under CI's busy core) would fail the test's next
        // cross-node push for a reason it does not test. While Redis is up, wait for it.
        let deadline = ContinuousClock.now.advanced(by: .seconds(15))
        while awaitWelcome, node.isReady, !node.relaysReach(user: user), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return socket
    }

    /// Graceful shutdown, as on SIGTERM; returns when every service has stopped, or fails
    /// if they have not within a minute (a drain takes `drainWindow`): a fixture's stop never
    /// hangs, and it runs to the end even when the test was cancelled.
    package func stop() async throws {
        defer { watch.release() }
        await group.triggerGracefulShutdown()
        try await task.value(within: .seconds(60), "the shutdown of node \(node.configuration.nodeID)")
    }
}
