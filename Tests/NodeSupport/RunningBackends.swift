import TestSupport
package import Backends
package import GRPCSupport
import Logging
package import Node
package import BackendCalls
import Routing
import ServiceLifecycle

/// The reference backends, really serving gRPC on loopback ports.
package final class RunningBackends: Sendable {
    package let ports: [ReferenceBackends.Service: Int]
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    /// Ends the backends if their test outlives its time limit and does not stop them.
    private let watch: TestWatchdog.Guard

    /// Starts the three services; ports 0 pick free ones. They push through `gatewayPort`.
    package static func start(
        gatewayPort: Int, ports requested: [ReferenceBackends.Service: Int] = [:], configure: (inout BackendsConfiguration) -> Void = { _ in }
    ) async throws -> RunningBackends {
        var configuration = BackendsConfiguration(
            gateway: GRPCEndpoint(host: "127.0.0.1", port: gatewayPort), pushSecret: RunningNode.pushSecret
        )
        configuration.locationPort = requested[.location] ?? 0
        configuration.chatPort = requested[.chat] ?? 0
        configuration.notificationPort = requested[.notification] ?? 0
        configuration.pushTimeout = testDeadline
        configure(&configuration)
        var logger = Logger(label: "test-backends")
        logger.logLevel = .error
        let backends = try ReferenceBackends(configuration: configuration, logger: logger)
        let (bound, continuation) = AsyncStream.makeStream(of: (ReferenceBackends.Service, Int).self)
        let group = ServiceGroup(configuration: .init(services: backends.services { continuation.yield(($0, $1)) }, logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        let watch = TestWatchdog.shared.guarding("the reference backends") {
            Task { await group.triggerGracefulShutdown() }
            task.cancel()
        }
        var ports: [ReferenceBackends.Service: Int] = [:]
        for await (service, port) in bound {
            ports[service] = port
            if ports.count == ReferenceBackends.Service.allCases.count { break }
        }
        guard ports.count == ReferenceBackends.Service.allCases.count else {
            defer { watch.release() }
            await group.triggerGracefulShutdown()
            do {
                try await task.value(within: .seconds(30), "the failed start of the backends")
                throw TestFailure("the backends did not start: their services stopped")
            } catch {
                throw TestFailure("the backends did not start: \(error)")
            }
        }
        return RunningBackends(ports: ports, group: group, task: task, watch: watch)
    }

    private init(ports: [ReferenceBackends.Service: Int], group: ServiceGroup, task: Task<Void, any Error>, watch: TestWatchdog.Guard) {
        self.ports = ports
        self.group = group
        self.task = task
        self.watch = watch
    }

    /// Backend addresses in the form the node's configuration takes.
    package var endpoints: [String: GRPCEndpoint] {
        Dictionary(uniqueKeysWithValues: ports.map { ($0.key.rawValue, GRPCEndpoint(host: "127.0.0.1", port: $0.value)) })
    }

    /// Bounded like `RunningNode.stop()`.
    package func stop() async throws {
        defer { watch.release() }
        await group.triggerGracefulShutdown()
        try await task.value(within: .seconds(60), "the shutdown of the reference backends")
    }
}

/// A node wired to freshly started reference backends, as `switchboard backends` plus
/// `switchboard node` run them.
package struct NodeWithBackends {
    package let node: RunningNode
    package let backends: RunningBackends

    /// The gateway port is picked before the node binds it, so another socket may take it
    /// first: then start again with another.
    package static func start(
        routes: RouteTable = .standard.withTimeout(testDeadline), configure: (inout NodeConfiguration) -> Void = { _ in },
        configureBackends: (inout BackendsConfiguration) -> Void = { _ in }
    ) async throws -> NodeWithBackends {
        var attempt = 0
        while true {
            attempt += 1
            let gatewayPort = try freePort()
            let backends = try await RunningBackends.start(gatewayPort: gatewayPort, configure: configureBackends)
            do {
                let node = try await RunningNode.start(routes: routes) {
                    $0.grpcPort = gatewayPort
                    $0.backends = backends.endpoints
                    configure(&$0)
                }
                return NodeWithBackends(node: node, backends: backends)
            } catch where attempt < 3 {
                try await backends.stop()
            }
        }
    }

    /// Stops both, even when the node's stop fails.
    package func stop() async throws {
        var failure: (any Error)?
        do { try await node.stop() } catch { failure = error }
        try await backends.stop()
        if let failure { throw failure }
    }
}
