#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
package import Foundation

/// Forms a Redis Cluster of redis-servers on this machine, the one way `switchboard
/// cluster --redis-cluster` and the tests do it: each server started with
/// `serverArguments`, then `form` runs `redis-cli --cluster create` (one replica per
/// primary) and waits until every server says the cluster is ok.
package struct RedisClusterFormation: Sendable {
    /// `redis-cli`.
    package let cli: URL
    /// What redis-cli needs to reach the servers: TLS (`--tls --cacert …`), a password
    /// (`-a … --no-auth-warning`).
    package let cliOptions: [String]
    /// How long the servers may take to answer, agree and be ok, all told.
    package let timeout: Duration

    package init(cli: URL, cliOptions: [String] = [], timeout: Duration = .seconds(60)) {
        self.cli = cli
        self.cliOptions = cliOptions
        self.timeout = timeout
    }

    /// A cluster member's options besides its port: cluster mode, its bus port (by default
    /// Redis takes port + 10,000, which may be taken or past 65535), its node file in
    /// `directory`, and how long a silent primary has before its replica takes over.
    package static func serverArguments(port: Int, bus: Int, directory: String, nodeTimeout: Duration) -> [String] {
        [
            "--cluster-enabled", "yes", "--cluster-port", "\(bus)", "--cluster-config-file", "nodes-\(port).conf",
            "--cluster-node-timeout", "\(nodeTimeout.milliseconds)", "--dir", directory,
        ]
    }

    /// Waits until each server on `ports` answers, creates the cluster over them and waits
    /// until each says `cluster_state:ok`.
    package func form(ports: [Int]) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        for port in ports {
            while try await run(["-p", "\(port)", "PING"]).output != "PONG" {
                guard ContinuousClock.now < deadline else { throw ChildProcessError("redis-server on \(port) did not answer") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let create = try await run(["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "1", "--cluster-yes"])
        guard create.status == 0 else { throw ChildProcessError("redis-cli --cluster create failed:\n\(create.output)") }
        for port in ports {
            while try await !run(["-p", "\(port)", "CLUSTER", "INFO"]).output.contains("cluster_state:ok") {
                guard ContinuousClock.now < deadline else { throw ChildProcessError("the Redis Cluster did not become ok on \(port)") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Runs redis-cli to its end without blocking a thread; its exit status and trimmed output.
    private func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = ChildProcess()
        process.executableURL = cli
        process.arguments = cliOptions + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // Its output is a few lines: the pipe's buffer holds it until the end.
        guard await process.exit(within: timeout) else {
            await process.stop(grace: .seconds(1))
            throw ChildProcessError("redis-cli \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
