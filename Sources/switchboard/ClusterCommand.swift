import ArgumentParser
import Auth
import Foundation
import Logging
import Node
import ServiceLifecycle
import UnixSignals

/// `switchboard cluster`: a whole cluster on this machine — Redis (unless one is given),
/// the reference backends and N nodes, each its own process — until Ctrl-C.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Run Redis, the reference backends and N gateway nodes on loopback until Ctrl-C."
    )

    @Option(help: "How many gateway nodes.") var nodes: Int = 3
    @Option(help: "WebSocket port of node 1; node i listens on base + 10·(i-1), its Gateway API one above.")
    var basePort: Int = 8080
    @Option(help: "Use this Redis (redis://host:port) instead of starting one.") var redis: String?
    @Option(help: "Port for the redis-server this command starts.") var redisPort: Int = 6390
    @Option(help: "First of the three backend ports (location, chat, notification).") var backendPort: Int = 9101
    @Option(help: "Seconds each node takes to close its clients at Ctrl-C or SIGTERM (the nodes' --drain-window).")
    var drainWindow: Double = 10
    @Option(help: "Serve the demo app (/demo) and an open dashboard, and mint tokens for any user: the nodes' --dev. Pass false for a cluster without them.")
    var dev: Bool = true

    func run() async throws {
        guard (1...50).contains(nodes) else { throw ValidationError("--nodes must be 1...50") }
        guard drainWindow >= 0.1 else { throw ValidationError("--drain-window must be at least 0.1 seconds") }
        let environment = ProcessEnvironment.current
        // Fresh secrets for this run unless given: the tokens it prints are signed with them.
        let jwtSecret = environment["SWITCHBOARD_JWT_SECRET"] ?? SharedSecret.generate()
        let pushSecret = environment["SWITCHBOARD_PUSH_SECRET"] ?? SharedSecret.generate()
        var childEnvironment = ProcessInfo.processInfo.environment
        childEnvironment["SWITCHBOARD_JWT_SECRET"] = jwtSecret
        childEnvironment["SWITCHBOARD_PUSH_SECRET"] = pushSecret
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var children: [(String, Process)] = []

        func launch(_ name: String, _ executable: URL, _ arguments: [String]) throws {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.environment = childEnvironment
            try process.run()
            children.append((name, process))
        }

        let redisURL: String
        if let redis {
            redisURL = redis
        } else {
            guard let server = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first(where: FileManager.default.isExecutableFile)
            else { throw ValidationError("redis-server is not installed (apt-get install -y redis-server), or pass --redis") }
            try launch("redis", URL(fileURLWithPath: server), [
                "--port", "\(redisPort)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning",
            ])
            redisURL = "redis://127.0.0.1:\(redisPort)"
        }
        // The backends push through any node: the first that answers.
        let gatewayAPI = (1...nodes).map { "127.0.0.1:\(basePort + 10 * ($0 - 1) + 1)" }.joined(separator: ",")
        try launch("backends", me, [
            "backends", "--location-port", "\(backendPort)", "--chat-port", "\(backendPort + 1)",
            "--notification-port", "\(backendPort + 2)", "--gateway", gatewayAPI,
        ])
        for index in 1...nodes {
            let port = basePort + 10 * (index - 1)
            try launch("node-\(index)", me, [
                "node", "--node-id", "node-\(index)", "--port", "\(port)", "--grpc-port", "\(port + 1)", "--redis", redisURL,
                "--location-backend", "127.0.0.1:\(backendPort)", "--chat-backend", "127.0.0.1:\(backendPort + 1)",
                "--notification-backend", "127.0.0.1:\(backendPort + 2)", "--drain-window", "\(drainWindow)", "--dev", "\(dev)",
            ])
        }

        let authenticator = try await TokenAuthenticator(secret: jwtSecret)
        print("switchboard cluster: redis \(redisURL), backends on \(backendPort)-\(backendPort + 2)")
        for index in 1...nodes {
            let port = basePort + 10 * (index - 1)
            print("  node-\(index): ws://127.0.0.1:\(port)/ws  gateway API 127.0.0.1:\(port + 1)  metrics http://127.0.0.1:\(port)/metrics")
        }
        for user in ["alice", "bob"] {
            print("  token for \(user) (12h): \(try await authenticator.issue(user: user, validFor: .seconds(12 * 3600)))")
        }
        print("  admin token (dashboard, 12h): \(try await authenticator.issue(user: "admin", validFor: .seconds(12 * 3600), admin: true))")
        let urls = (1...nodes).map { "ws://127.0.0.1:\(basePort + 10 * ($0 - 1))/ws" }.joined(separator: ",")
        if dev {
            print("  demo (dev mode: tokens for any name): http://127.0.0.1:\(basePort)/demo?nodes=\(urls)")
            print("    e.g. http://127.0.0.1:\(basePort)/demo?user=alice&nodes=\(urls)  and  http://127.0.0.1:\(basePort + 10 * min(1, nodes - 1))/demo?user=bob&nodes=\(urls)")
        }
        print("  dashboard: http://127.0.0.1:\(basePort)/dashboard\(dev ? "" : "#token=<the admin token>")")
        print("Ctrl-C stops everything.")
        // Show the URLs and tokens now, even when stdout is a file or a pipe.
        fflush(nil)

        let supervisor = ChildSupervisor(children: children, grace: .milliseconds(Int64(drainWindow * 1000)) + .seconds(5))
        try await ServiceGroup(services: [supervisor], gracefulShutdownSignals: [.sigint, .sigterm], logger: .init(label: "cluster")).run()
    }
}

/// Waits for Ctrl-C (or for a child to die), then stops the children: the nodes and the
/// backends together (so the nodes drain side by side), Redis once they are gone.
struct ChildSupervisor: Service, @unchecked Sendable {
    let children: [(String, Process)]
    /// How long the others get after SIGTERM: longer than a node's drain window.
    let grace: Duration

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await gracefulShutdown() }
            group.addTask {
                while children.allSatisfy({ $0.1.isRunning }) && !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
            await group.next()
            group.cancelAll()
        }
        // redis-server runs without persistence, so nothing is lost by killing it; it would
        // not see SIGTERM anyway (children may inherit a blocked SIGTERM from the thread
        // that spawned them). The others drain, withdrawing their presence, while it runs.
        let others = children.reversed().filter { $0.0 != "redis" && $0.1.isRunning }
        for (_, process) in others { process.terminate() }
        let deadline = ContinuousClock.now.advanced(by: grace)
        while others.contains(where: { $0.1.isRunning }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for (name, process) in others where process.isRunning {
            print("\(name) did not stop within \(grace); killing it")
            kill(process.processIdentifier, SIGKILL)
        }
        for (name, process) in children where name == "redis" && process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        for (name, process) in children.reversed() {
            process.waitUntilExit()
            if name != "redis" && process.terminationReason == .exit && process.terminationStatus != 0 {
                print("\(name) exited with \(process.terminationStatus)")
            }
        }
    }
}
