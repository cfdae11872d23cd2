package import TestSupport
import RedisBackplane
package import Node

/// Real nodes sharing one real Redis, each with its own ports and Redis connections, under
/// a key prefix of their own so that clusters of tests running side by side never meet.
package struct TestCluster {
    package let redis: RedisServer
    /// Set when the nodes share a Redis Cluster instead of `redis`.
    package let redisCluster: TestRedisCluster?
    package let nodes: [RunningNode]
    package let prefix: String

    /// Prefer `withCluster { }`, which stops the nodes even when the test fails.
    package static func start(
        nodes count: Int = 3, redis: RedisServer? = nil, redisCluster: TestRedisCluster? = nil,
        configure: @escaping (inout NodeConfiguration) -> Void = { _ in }
    ) async throws -> TestCluster {
        let shared = try await RedisServer.shared()
        let redis = redis ?? shared
        let prefix = "t\(UInt32.random(in: 0...UInt32.max)):"
        var nodes: [RunningNode] = []
        do {
            for index in 1...count {
                nodes.append(try await RunningNode.start(nodeID: "node-\(index)") {
                    $0.redis = BackplaneEndpoint(redis: redisCluster?.endpoint ?? redis.endpoint)
                    $0.redisPrefix = prefix
                    // A lease that outlives a busy machine's stalls: dozens of nodes share this
                    // process and two cores, and a heartbeat late past a 1.5 s lease got a live
                    // node swept mid-test. Sweeping itself is proven on virtual time
                    // (NodeLeaseServiceTests) and against a killed process (ClusterFaultTests).
                    $0.leaseInterval = .milliseconds(500)
                    $0.leaseTTL = .seconds(6)
                    // Likewise Redis' answers: on two saturated cores a reply was seen later
                    // than the 2 s default (the sends failed so had been delivered), and a
                    // connect later than 1 s. Tests of the timeouts set short ones.
                    $0.redisTimeout = .seconds(60)
                    configure(&$0)
                })
            }
            try await waitUntil { nodes.allSatisfy { $0.node.isReady } }
        } catch {
            for node in nodes { try? await node.stop() }
            throw error
        }
        return TestCluster(redis: redis, redisCluster: redisCluster, nodes: nodes, prefix: prefix)
    }

    package func stop() async throws {
        var failure: (any Error)?
        for node in nodes {
            do { try await node.stop() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }
}
