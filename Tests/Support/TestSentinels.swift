import Essentials
import Foundation
import Logging
import RedisClient

/// Real `redis-sentinel` processes (Debian's redis-sentinel) on free loopback ports,
/// watching one primary under `masterName` with a short down-after, so that a killed
/// primary is failed over within seconds.
package final class TestSentinels: @unchecked Sendable {
    package let ports: [Int]
    package let masterName: String
    private let processes: [ChildProcess]
    private let directory: URL
    private let password: String?
    private let tls: TestCertificates?

    package var addresses: String { ports.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

    /// Starts `count` sentinels and returns once each knows the primary's replicas and the
    /// other sentinels (what a failover needs).
    /// `password`: the sentinels ask clients (and each other) for it (`requirepass`).
    /// `tls`: they speak only TLS, with these files' server certificate, and reach the
    /// primary over TLS (which must speak it too).
    package static func start(
        count: Int = 3, watching primary: RedisServer, replicas: Int, masterName: String = "sbprimary", password: String? = nil,
        tls: TestCertificates? = nil
    ) async throws -> TestSentinels {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentinels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var ports: [Int] = []
        var processes: [ChildProcess] = []
        for index in 0..<count {
            let port = try freePort()
            let file = directory.appendingPathComponent("sentinel-\(index).conf")
            let listen = tls.map { files in
                """
                port 0
                tls-port \(port)
                tls-cert-file \(files.serverCert)
                tls-key-file \(files.serverKey)
                tls-ca-cert-file \(files.ca)
                tls-auth-clients no
                tls-replication yes
                """
            } ?? "port \(port)"
            try """
            \(listen)
            bind 127.0.0.1
            daemonize no
            logfile ""
            loglevel warning
            sentinel monitor \(masterName) 127.0.0.1 \(primary.port) 2
            sentinel down-after-milliseconds \(masterName) 1000
            sentinel failover-timeout \(masterName) 10000
            sentinel parallel-syncs \(masterName) 1
            \(password.map { "requirepass \($0)" } ?? "")

            """.write(to: file, atomically: true, encoding: .utf8)
            let process = ChildProcess.guarded()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-sentinel")
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-sentinel") else {
                throw TestFailure("redis-sentinel is not installed: apt-get install -y redis-sentinel (scripts/test.sh does)")
            }
            process.arguments = [file.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            ports.append(port)
            processes.append(process)
        }
        let sentinels = TestSentinels(ports: ports, masterName: masterName, processes: processes, directory: directory, password: password, tls: tls)
        do {
            for port in ports {
                let connection = RedisConnection(
                    endpoint: Self.patient(RedisEndpoint(host: "127.0.0.1", port: port, password: password, tls: tls != nil, caFile: tls?.ca)),
                    logger: Logger(label: "sentinel-probe")
                )
                defer { connection.close() }
                try await waitUntil(timeout: .seconds(30)) {
                    let known = try? await connection.send(["SENTINEL", "REPLICAS", masterName])
                    let peers = try? await connection.send(["SENTINEL", "SENTINELS", masterName])
                    return known?.array?.count == replicas && peers?.array?.count == count - 1
                }
            }
        } catch {
            sentinels.stop()
            throw error
        }
        return sentinels
    }

    private init(ports: [Int], masterName: String, processes: [ChildProcess], directory: URL, password: String?, tls: TestCertificates?) {
        self.ports = ports
        self.masterName = masterName
        self.processes = processes
        self.directory = directory
        self.password = password
        self.tls = tls
    }

    /// With timeouts a busy machine cannot reach (the default 1 s connect was passed on one).
    private static func patient(_ endpoint: RedisEndpoint) -> RedisEndpoint {
        var endpoint = endpoint
        endpoint.connectTimeout = .seconds(30)
        endpoint.commandTimeout = .seconds(30)
        return endpoint
    }

    /// The primary's port as the first sentinel names it now.
    package func primaryPort() async throws -> Int? {
        let connection = RedisConnection(
            endpoint: Self.patient(RedisEndpoint(host: "127.0.0.1", port: ports[0], password: password, tls: tls != nil, caFile: tls?.ca)),
            logger: Logger(label: "sentinel-probe")
        )
        defer { connection.close() }
        return try await connection.send(["SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName]).array?.last?.string.flatMap { Int($0) }
    }

    package func stop() {
        // SIGKILL: a sentinel started by Foundation's Process inherits a signal mask that
        // ignores SIGTERM, and waiting for it would hang.
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
