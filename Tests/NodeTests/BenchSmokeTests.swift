import Bench
import Foundation
import Testing

/// Tiny runs of every load-generator scenario, so the tool keeps working. They assert
/// that everything sent arrived, never a speed.
@Suite("Load generator smoke runs", .timeLimit(.minutes(2)))
struct BenchSmokeTests {
    @Test("pair, calls, connect and idle against one node with backends")
    func singleNodeScenarios() async throws {
        let system = try await NodeWithBackends.start()
        let url = system.node.url
        let pair = try await PairBenchmark(url: url, secret: RunningNode.secret, messages: 300, payloadBytes: 16, window: 32, format: .json).run()
        #expect(pair.messages == 300)
        #expect(pair.latency.count == 300)
        let calls = try await CallsBenchmark(url: url, secret: RunningNode.secret, clients: 2, callsPerClient: 20).run()
        #expect(calls.calls == 40)
        #expect(calls.failures == 0)
        let connect = try await ConnectBenchmark(url: url, secret: RunningNode.secret, connections: 40, concurrency: 8).run()
        #expect(connect.failures == 0)
        let idle = try await IdleBenchmark(
            url: url, secret: RunningNode.secret, connections: 20, nodePID: ProcessInfo.processInfo.processIdentifier, settle: .milliseconds(100)
        ).run()
        #expect(idle.connections == 20)
        #expect(idle.rssAfterKiB > 0)
        try await system.stop()
    }

    @Test("ring across two nodes of a cluster delivers everything")
    func ringAcrossNodes() async throws {
        let cluster = try await TestCluster.start(nodes: 2)
        let ring = try await RingBenchmark(
            urls: cluster.nodes.map(\.url), secret: RunningNode.secret, clients: 10, messagesPerClient: 30, window: 4, payloadBytes: 16
        ).run(timeout: .seconds(30))
        #expect(ring.expected == 300)
        #expect(ring.lost == 0)
        try await cluster.stop()
    }
}
