import Essentials
import Foundation
import Logging
package import RedisClient

/// A real Redis Cluster on loopback: `primaries` × 2 `redis-server` processes (cluster
/// mode, 1 s node timeout so a killed primary fails over within seconds), joined by
/// `redis-cli --cluster create … --cluster-replicas 1`. `start` returns once every slot is
/// served and every primary has its replica.
///
/// `shared()` is one for the whole test process (tests that do not kill servers);
/// `withRedisCluster { }` gives a test its own and stops it even when the test fails.
nonisolated(unsafe) private var sharedClusterPIDs: [Int32] = []

package final class TestRedisCluster: @unchecked Sendable {
    package let servers: [RedisServer]
    private let directory: URL

    /// Seeds: every server (a node started with some of them dead still finds the cluster).
    package var endpoint: RedisEndpoint {
        var endpoint = servers[0].endpoint
        endpoint.clusterSeeds = servers.map { HostAndPort(host: "127.0.0.1", port: $0.port) }
        return endpoint
    }

    /// What `--redis` takes (with `--redis-ca-file` when it speaks TLS).
    package var url: String {
        let scheme = servers[0].tlsCAFile == nil ? "redis" : "rediss"
        let credentials = servers[0].password.map { ":\($0)@" } ?? ""
        return "\(scheme)+cluster://\(credentials)" + servers.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
    }

    private init(servers: [RedisServer], directory: URL) {
        self.servers = servers
        self.directory = directory
    }

    /// `tls`: every server speaks only TLS — to clients, to its replicas and on the cluster
    /// bus — with the server certificate of those files (clients need no certificate).
    /// `password`: every server asks for it (`requirepass`, and `masterauth` for replication).
    /// `guarded`: see `RedisServer.start`.
    package static func start(
        primaries: Int = 3, tls: TestCertificates? = nil, password: String? = nil, guarded: Bool = true
    ) async throws -> TestRedisCluster {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var servers: [RedisServer] = []
        let secured = (tls == nil ? [] : ["--tls-cluster", "yes", "--tls-replication", "yes"])
            + (password.map { ["--requirepass", $0, "--masterauth", $0] } ?? [])
        for _ in 0..<(primaries * 2) {
            let port = try freePort()
            let listen = tls.map { RedisServer.tlsArguments(port: port, $0) } ?? ["--port", "\(port)"]
            let member = RedisClusterFormation.serverArguments(port: port, bus: try freePort(), directory: directory.path, nodeTimeout: .seconds(1))
            servers.append(try await RedisServer.start(
                port: port, extra: listen + secured + member, tlsCAFile: tls?.ca, password: password, guarded: guarded
            ))
        }
        let cluster = TestRedisCluster(servers: servers, directory: directory)
        do {
            let formation = RedisClusterFormation(
                cli: URL(fileURLWithPath: "/usr/bin/redis-cli"),
                cliOptions: (tls.map { ["--tls", "--cacert", $0.ca] } ?? []) + (password.map { ["-a", $0, "--no-auth-warning"] } ?? []),
                timeout: .seconds(120)
            )
            try await formation.form(ports: servers.map(\.port))
            try await cluster.waitUntilFormed(primaries: primaries)
        } catch {
            cluster.stop()
            throw error
        }
        return cluster
    }

    /// Every server agrees that every slot is served by `primaries` primaries, each with a replica.
    package func waitUntilFormed(primaries: Int, among alive: [RedisServer]? = nil) async throws {
        for server in alive ?? servers {
            let probe = RedisConnection(endpoint: server.endpoint, logger: Logger(label: "cluster-probe"))
            defer { probe.close() }
            try await waitUntil(timeout: .seconds(60)) {
                guard let reply = try? await probe.send("CLUSTER", "SLOTS"),
                      let topology = RedisClusterTopology(clusterSlots: reply, asked: HostAndPort(host: "127.0.0.1", port: server.port))
                else { return false }
                guard topology.coversEverySlot, topology.shards.count == primaries, topology.shards.allSatisfy({ $0.replicas.count == 1 }) else { return false }
                let info = try? await probe.send("CLUSTER", "INFO")
                return info?.string?.contains("cluster_state:ok") == true
            }
        }
    }

    /// The topology as `server` (default: the first alive) sees it.
    package func topology() async throws -> RedisClusterTopology {
        for server in servers where server.isRunning {
            let probe = RedisConnection(endpoint: server.endpoint, logger: Logger(label: "cluster-probe"))
            defer { probe.close() }
            if let reply = try? await probe.send("CLUSTER", "SLOTS"),
               let topology = RedisClusterTopology(clusterSlots: reply, asked: HostAndPort(host: "127.0.0.1", port: server.port)) {
                return topology
            }
        }
        throw TestFailure("no cluster node answered CLUSTER SLOTS")
    }

    /// The server that is primary for `key`'s slot now.
    package func primary(for key: String) async throws -> RedisServer {
        let topology = try await topology()
        guard let shard = topology.shardIndex(ofSlot: RedisHashSlot.of(key)),
              let server = servers.first(where: { $0.port == topology.shards[shard].primary.port })
        else { throw TestFailure("no primary serves \(key)") }
        return server
    }

    package func stop() {
        servers.forEach { $0.kill() }
        try? FileManager.default.removeItem(at: directory)
    }

    private static let sharedCluster = Task { () throws -> TestRedisCluster in
        let cluster = try await TestRedisCluster.start(guarded: false)
        // Nobody deinitializes a static: stop the servers when the test process exits.
        sharedClusterPIDs = cluster.servers.compactMap(\.processIdentifier)
        atexit { sharedClusterPIDs.forEach { Foundation.kill($0, SIGKILL) } }
        return cluster
    }

    package static func shared() async throws -> TestRedisCluster {
        try await sharedCluster.value
    }
}

/// A Redis Cluster of the test's own, stopped when `body` ends, also by throwing.
package func withRedisCluster<T>(
    primaries: Int = 3, tls: TestCertificates? = nil, password: String? = nil, _ body: (TestRedisCluster) async throws -> T
) async throws -> T {
    let cluster = try await TestRedisCluster.start(primaries: primaries, tls: tls, password: password)
    defer { cluster.stop() }
    return try await body(cluster)
}
