import ArgumentParser
import Auth
import Essentials
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
        abstract: "Run Redis, the reference backends and N gateway nodes on this machine until Ctrl-C."
    )

    @Option(help: "How many gateway nodes.") var nodes: Int = 3
    @Option(help: "WebSocket port of node 1; node i listens on base + 10·(i-1), its Gateway API one above.")
    var basePort: Int = 8080
    @Option(help: "Use this Redis (redis://host:port) instead of starting one.") var redis: String?
    @Option(help: "Port for the redis-server this command starts (the first of them with --redis-cluster).") var redisPort: Int = 6390
    @Option(help: "Start a local Redis Cluster of this many primaries (each with a replica, from redis-server and redis-cli) instead of one Redis; at least 3.")
    var redisCluster: Int?
    @Option(help: "First of the three backend ports (location, chat, notification).") var backendPort: Int = 9101
    @Option(help: "Seconds each node takes to close its clients at Ctrl-C or SIGTERM (the nodes' --drain-window).")
    var drainWindow: Double = 10
    @Option(help: "The nodes' --topic-namespaces: the demo's rooms, which any user may join and post to, and private conversations (dm:alice+bob), which the reference topic authorizer opens to the users they name.")
    var topicNamespaces = "room:subscribe=any,publish=any,joins=on;dm:subscribe=backend,publish=backend"
    @Option(help: "Address the nodes listen on (client port and Gateway API); e.g. 0.0.0.0 to show the demo from a VM. Redis and the backends stay on loopback.")
    var host: String = "127.0.0.1"
    @Option(help: "Serve the demo app (/demo) and an open dashboard, and mint tokens for any user: the nodes' --dev. Default: true on a loopback --host; elsewhere it is refused, and the demo takes the tokens in the links printed.")
    var dev: Bool?

    func run() async throws {
        guard (1...50).contains(nodes) else { throw ValidationError("--nodes must be 1...50") }
        guard drainWindow >= 0.1 else { throw ValidationError("--drain-window must be at least 0.1 seconds") }
        let local = NodeConfiguration.isLoopback(host)
        if dev == true && !local {
            throw ValidationError(
                "--dev mints a token for any user name, so it runs only on a loopback host, not '\(host)': leave it out, and open the demo links printed (each carries its user's token)"
            )
        }
        let dev = self.dev ?? local
        // What to print in URLs: a wildcard address is no place to connect to.
        let named = ["0.0.0.0", "::", "[::]"].contains(host) ? (SystemHostName.current ?? "127.0.0.1") : host
        let shown = named.contains(":") && !named.hasPrefix("[") ? "[\(named)]" : named
        let environment = ProcessEnvironment.current
        // Fresh secrets for this run unless given: the tokens it prints are signed with them.
        let jwtSecret = environment["SWITCHBOARD_JWT_SECRET"] ?? SharedSecret.generate()
        let pushSecret = environment["SWITCHBOARD_PUSH_SECRET"] ?? SharedSecret.generate()
        var childEnvironment = ProcessInfo.processInfo.environment
        childEnvironment["SWITCHBOARD_JWT_SECRET"] = jwtSecret
        childEnvironment["SWITCHBOARD_PUSH_SECRET"] = pushSecret
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var children: [(String, ChildProcess)] = []

        func launch(_ name: String, _ executable: URL, _ arguments: [String]) throws {
            let process = ChildProcess()
            process.executableURL = executable
            process.arguments = arguments
            process.environment = childEnvironment
            // Ctrl-C reaches only this command, which stops Redis after the nodes have drained.
            process.ownProcessGroup = true
            // Killed outright (SIGKILL, a crash), this command leaves nothing holding its ports.
            process.diesWithParent = true
            try process.run()
            children.append((name, process))
        }

        let redisURL: String
        if let redis {
            redisURL = redis
        } else if let primaries = redisCluster {
            guard (3...16).contains(primaries) else { throw ValidationError("--redis-cluster must be 3...16 (Redis Cluster needs at least three primaries)") }
            let server = try Self.redisTool("redis-server")
            let ports = (0..<(primaries * 2)).map { redisPort + $0 }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-redis-cluster-\(ProcessInfo.processInfo.processIdentifier)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // Ports this command binds later (backends, nodes, the servers): no bus port may take one.
            var own = Set(ports + (0..<3).map { backendPort + $0 })
            for index in 0..<nodes { own.formUnion([basePort + 10 * index, basePort + 10 * index + 1]) }
            for port in ports {
                // The cluster bus: port + 10,000 by default, which may be taken or past 65535.
                let bus = !own.contains(port + 10_000) && LoopbackPort.isFree(port + 10_000) ? port + 10_000 : LoopbackPort.free(avoiding: own)
                if let bus { own.insert(bus) }
                guard let bus else { throw ValidationError("no free port for the cluster bus of the redis-server on \(port)") }
                try launch("redis-\(port)", server, [
                    "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning",
                    // Six servers' start-up banners would bury the nodes' output.
                    "--logfile", directory.appendingPathComponent("redis-\(port).log").path,
                ] + RedisClusterFormation.serverArguments(port: port, bus: bus, directory: directory.path, nodeTimeout: .seconds(2)))
            }
            try await RedisClusterFormation(cli: try Self.redisTool("redis-cli"), timeout: .seconds(30)).form(ports: ports)
            redisURL = "redis+cluster://" + ports.map { "127.0.0.1:\($0)" }.joined(separator: ",")
            print("switchboard cluster: a Redis Cluster of \(primaries) primaries and \(primaries) replicas on \(ports[0])-\(ports[ports.count - 1]) (logs in \(directory.path))")
        } else {
            try launch("redis", try Self.redisTool("redis-server"), [
                "--port", "\(redisPort)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning",
            ])
            redisURL = "redis://127.0.0.1:\(redisPort)"
        }
        // The backends push through any node: the first that answers.
        let reachable = local || named != host ? "127.0.0.1" : shown
        let gatewayAPI = (1...nodes).map { "\(reachable):\(basePort + 10 * ($0 - 1) + 1)" }.joined(separator: ",")
        try launch("backends", me, [
            "backends", "--location-port", "\(backendPort)", "--chat-port", "\(backendPort + 1)",
            "--notification-port", "\(backendPort + 2)", "--gateway", gatewayAPI,
        ])
        for index in 1...nodes {
            let port = basePort + 10 * (index - 1)
            try launch("node-\(index)", me, [
                "node", "--node-id", "node-\(index)", "--host", host, "--port", "\(port)", "--grpc-port", "\(port + 1)", "--redis", redisURL,
                "--location-backend", "127.0.0.1:\(backendPort)", "--chat-backend", "127.0.0.1:\(backendPort + 1)",
                "--notification-backend", "127.0.0.1:\(backendPort + 2)", "--topic-authorizer", "127.0.0.1:\(backendPort + 1)", "--drain-window", "\(drainWindow)", "--dev", "\(dev)",
                "--demo", "\(!dev && !local)", "--topic-namespaces", topicNamespaces,
            ])
        }

        let authenticator = try await TokenAuthenticator(secret: jwtSecret)
        print("switchboard cluster: redis \(redisURL), backends on \(backendPort)-\(backendPort + 2)")
        for index in 1...nodes {
            let port = basePort + 10 * (index - 1)
            print("  node-\(index): ws://\(shown):\(port)/ws  gateway API \(shown):\(port + 1)  metrics http://\(shown):\(port)/metrics")
        }
        var tokens: [String: String] = [:]
        for user in ["alice", "bob"] {
            tokens[user] = try await authenticator.issue(user: user, validFor: .seconds(12 * 3600))
            print("  token for \(user) (12h): \(tokens[user]!)")
        }
        let admin = try await authenticator.issue(user: "admin", validFor: .seconds(12 * 3600), admin: true)
        print("  admin token (dashboard, 12h): \(admin)")
        let urls = (1...nodes).map { "ws://\(shown):\(basePort + 10 * ($0 - 1))/ws" }.joined(separator: ",")
        let second = basePort + 10 * min(1, nodes - 1)
        if dev {
            print("  demo (dev mode: tokens for any name): http://\(shown):\(basePort)/demo?nodes=\(urls)")
            print("    e.g. http://\(shown):\(basePort)/demo?user=alice&nodes=\(urls)  and  http://\(shown):\(second)/demo?user=bob&nodes=\(urls)")
        } else if !local {
            print("  demo (each link signs in its user with the token it carries):")
            print("    alice: http://\(shown):\(basePort)/demo?nodes=\(urls)#token=\(tokens["alice"]!)")
            print("    bob:   http://\(shown):\(second)/demo?nodes=\(urls)#token=\(tokens["bob"]!)")
        }
        print("  dashboard: http://\(shown):\(basePort)/dashboard\(dev ? "" : "#token=\(admin)")")
        print("Ctrl-C stops everything.")
        // Show the URLs and tokens now, even when stdout is a file or a pipe.
        fflush(nil)

        let supervisor = ChildSupervisor(children: children, grace: .milliseconds(Int64(drainWindow * 1000)) + .seconds(5))
        try await ServiceGroup(services: [supervisor], gracefulShutdownSignals: [.sigint, .sigterm], logger: .init(label: "cluster")).run()
    }

    static func redisTool(_ name: String) throws -> URL {
        guard let path = ["/usr/bin/\(name)", "/usr/local/bin/\(name)"].first(where: FileManager.default.isExecutableFile) else {
            throw ValidationError("\(name) is not installed (apt-get install -y redis-server), or pass --redis")
        }
        return URL(fileURLWithPath: path)
    }
}

/// Waits for Ctrl-C (or for a child to die), then stops the children: the nodes and the
/// backends together (so the nodes drain side by side), Redis once they are gone.
struct ChildSupervisor: Service {
    let children: [(String, ChildProcess)]
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
        // redis-server runs without persistence, so nothing is lost by killing it. The
        // others drain, withdrawing their presence, while it runs.
        let others = children.reversed().filter { !$0.0.hasPrefix("redis") && $0.1.isRunning }
        for (_, process) in others { process.terminate() }
        let deadline = ContinuousClock.now.advanced(by: grace)
        while others.contains(where: { $0.1.isRunning }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for (name, process) in others where process.isRunning {
            print("\(name) did not stop within \(grace); killing it")
            kill(process.processIdentifier, SIGKILL)
        }
        for (name, process) in children where name.hasPrefix("redis") && process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        for (name, process) in children.reversed() {
            await process.exit(within: .seconds(30))
            if !name.hasPrefix("redis") && process.terminationReason == .exit && process.terminationStatus != 0 {
                print("\(name) exited with \(process.terminationStatus)")
            }
        }
    }
}
