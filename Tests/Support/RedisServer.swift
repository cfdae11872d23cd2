import Essentials
import Foundation
import Logging
package import RedisClient

/// A real `redis-server` on a free loopback port, without persistence.
///
/// `shared()` is the one `scripts/test.sh` started (`SWITCHBOARD_TEST_REDIS`), or one this
/// process starts when run alone; tests that stop or restart Redis start their own.
nonisolated(unsafe) private var sharedPID: Int32 = 0

package final class RedisServer: @unchecked Sendable {
    package let port: Int
    /// The TLS files when the server speaks only TLS (`startTLS`, or `start` given `tlsCAFile`).
    package private(set) var tlsCAFile: String?
    /// The default user's password when the server was started with `--requirepass`.
    package private(set) var password: String?
    private var process: ChildProcess?
    private let lock = NSLock()

    /// With timeouts a busy machine cannot reach: a test's own clients must not take two
    /// saturated cores for a hung Redis. Tests of the timeouts set short ones.
    package var endpoint: RedisEndpoint {
        var endpoint = RedisEndpoint(host: "127.0.0.1", port: port, password: password, tls: tlsCAFile != nil, caFile: tlsCAFile)
        endpoint.connectTimeout = .seconds(30)
        endpoint.commandTimeout = .seconds(60)
        return endpoint
    }
    package var url: String { "redis://127.0.0.1:\(port)" }

    private init(port: Int) {
        self.port = port
    }

    /// `extra`: the server's arguments instead of `--port <port>` (persistence stays off);
    /// `tlsCAFile` and `password`: what clients need when `extra` makes the server speak only
    /// TLS or ask for a password.
    /// `guarded`: killed by the test watchdog with the test that started it (off for a
    /// server every test shares).
    package static func start(
        port: Int? = nil, extra: [String]? = nil, tlsCAFile: String? = nil, password: String? = nil, guarded: Bool = true
    ) async throws -> RedisServer {
        let server = RedisServer(port: try port ?? freePort())
        server.tlsCAFile = tlsCAFile
        server.password = password
        try await server.launch(extra: extra, guarded: guarded)
        return server
    }

    package var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }
    package var processIdentifier: Int32? { lock.withLock { process?.processIdentifier } }

    private static let sharedServer = Task { () throws -> RedisServer in
        if let url = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_REDIS"], let endpoint = RedisEndpoint(url) {
            return RedisServer(port: endpoint.port)
        }
        let server = try await RedisServer.start(guarded: false)
        // Nobody deinitializes a static: stop the server when the test process exits.
        sharedPID = server.lock.withLock { server.process?.processIdentifier } ?? 0
        atexit { if sharedPID > 0 { Foundation.kill(sharedPID, SIGKILL) } }
        return server
    }

    package static func shared() async throws -> RedisServer {
        try await sharedServer.value
    }

    /// A server that speaks only TLS on its port, with the server certificate of `files`,
    /// not asking clients for certificates.
    package static func startTLS(_ files: TestCertificates) async throws -> RedisServer {
        let port = try freePort()
        return try await start(port: port, extra: tlsArguments(port: port, files), tlsCAFile: files.ca)
    }

    /// `redis-server` arguments to listen on `port` with TLS only, presenting `files`' server
    /// certificate and asking clients for none.
    package static func tlsArguments(port: Int, _ files: TestCertificates) -> [String] {
        [
            "--port", "0", "--tls-port", "\(port)", "--tls-cert-file", files.serverCert, "--tls-key-file", files.serverKey,
            "--tls-ca-cert-file", files.ca, "--tls-auth-clients", "no",
        ]
    }

    /// A replica of `primary` (its data, and the failover candidate the sentinels promote).
    package static func startReplica(of primary: RedisServer) async throws -> RedisServer {
        let server = RedisServer(port: try freePort())
        try await server.launch(extra: ["--port", "\(server.port)", "--replicaof", "127.0.0.1", "\(primary.port)"])
        return server
    }

    package func launch(extra: [String]? = nil, guarded: Bool = true) async throws {
        let process = guarded ? ChildProcess.guarded() : ChildProcess.testChild()
        process.executableURL = try Self.executable()
        process.arguments = (extra ?? ["--port", "\(port)"]) + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"]
        process.standardOutput = FileHandle.nullDevice
        // Not the test's stderr: a server outliving a crashed test process would hold that
        // pipe open, and `swift test` would wait for it forever.
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
        let probe = RedisConnection(endpoint: endpoint, logger: Logger(label: "probe"))
        defer { probe.close() }
        try await waitUntil { (try? await probe.send("PING")) == .status("PONG") }
    }

    /// SIGKILL: Redis vanishes as in a crash.
    package func kill() {
        lock.withLock {
            if let process, process.isRunning {
                Foundation.kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            process = nil
        }
    }

    deinit {
        if let process, process.isRunning { process.terminate() }
    }

    private static func executable() throws -> URL {
        for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let url = URL(fileURLWithPath: directory).appendingPathComponent("redis-server")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw TestFailure("redis-server is not installed: apt-get install -y redis-server (scripts/test.sh does)")
    }
}
