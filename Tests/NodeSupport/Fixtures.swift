package import TestSupport
package import Backends
package import Node
package import Presence
package import BackendCalls
package import Routing

/// Scoped fixtures: what they start is stopped when the body returns or throws, so a
/// failed `#require` (or a test that times out) leaves no node, cluster or backend running.

/// Runs `body` with one node on free loopback ports, in process presence and relay unless given.
package func withNode<Result>(
    nodeID: String = "node-1",
    presence: (any PresenceDirectory)? = nil,
    bus: (any RelayBus)? = nil,
    routes: RouteTable = .standard,
    configure: (inout NodeConfiguration) -> Void = { _ in },
    _ body: (RunningNode) async throws -> Result
) async throws -> Result {
    let node = try await RunningNode.start(nodeID: nodeID, presence: presence, bus: bus, routes: routes, configure: configure)
    return try await scoped(body, node) { try await node.stop() }
}

/// Runs `body` with `count` nodes sharing a real Redis (the shared test server unless given),
/// or a real Redis Cluster when `redisCluster` is given.
package func withCluster<Result>(
    nodes count: Int = 3,
    redis: RedisServer? = nil,
    redisCluster: TestRedisCluster? = nil,
    configure: @escaping (inout NodeConfiguration) -> Void = { _ in },
    _ body: (TestCluster) async throws -> Result
) async throws -> Result {
    let cluster = try await TestCluster.start(nodes: count, redis: redis, redisCluster: redisCluster, configure: configure)
    return try await scoped(body, cluster) { try await cluster.stop() }
}

/// Runs `body` with the reference backends serving gRPC, pushing through `gatewayPort`.
package func withBackends<Result>(
    gatewayPort: Int,
    ports: [ReferenceBackends.Service: Int] = [:],
    _ body: (RunningBackends) async throws -> Result
) async throws -> Result {
    let backends = try await RunningBackends.start(gatewayPort: gatewayPort, ports: ports)
    return try await scoped(body, backends) { try await backends.stop() }
}

/// Runs `body` with a node wired to freshly started reference backends, as `switchboard
/// backends` plus `switchboard node` run them.
package func withNodeAndBackends<Result>(
    routes: RouteTable = .standard.withTimeout(testDeadline),
    configure: (inout NodeConfiguration) -> Void = { _ in },
    configureBackends: (inout BackendsConfiguration) -> Void = { _ in },
    _ body: (NodeWithBackends) async throws -> Result
) async throws -> Result {
    let system = try await NodeWithBackends.start(routes: routes, configure: configure, configureBackends: configureBackends)
    return try await scoped(body, system) { try await system.stop() }
}

/// Runs `body`, then `stop` whether `body` returned or threw; `body`'s error wins.
private func scoped<Resource, Result>(
    _ body: (Resource) async throws -> Result, _ resource: Resource, stop: () async throws -> Void
) async throws -> Result {
    let result: Result
    do {
        result = try await body(resource)
    } catch {
        try? await stop()
        throw error
    }
    try await stop()
    return result
}
