import ArgumentParser
import Bench
import Foundation
import GRPCSupport
import Routing

/// `switchboard bench`: the load generator (release builds give the real numbers).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load running nodes with real WebSocket clients and report what they delivered.",
        subcommands: [
            SendCommand.self, SpreadCommand.self, PushCommand.self, BroadcastCommand.self, FanoutCommand.self, ConnectCommand.self, IdleCommand.self, IdleWorkerCommand.self,
            CallsCommand.self, DrainCommand.self, ChaosCommand.self, ChartCommand.self, BaselineServerCommand.self, DelayProxyCommand.self,
        ]
    )

    /// Runs a benchmark `runs` times, printing each result and then the median rate.
    static func repeatRuns(_ runs: Int, unit: String, _ body: () async throws -> (report: String, rate: Double)) async throws {
        var rates: [Double] = []
        for run in 1...max(runs, 1) {
            let (report, rate) = try await body()
            print("run \(run): \(report)")
            rates.append(rate)
        }
        print("median: \(Int(rates.sorted()[rates.count / 2])) \(unit)")
    }
}

/// Options every scenario shares.
struct BenchOptions: ParsableArguments {
    @Option(parsing: .upToNextOption, help: "Node WebSocket URLs; clients are spread over them round-robin.")
    var urls: [String] = ["ws://127.0.0.1:8080/ws"]
    @Option(help: "The nodes' HS256 secret, to mint client tokens (SWITCHBOARD_JWT_SECRET).")
    var jwtSecret: String?
    @Option(help: "Loopback source addresses to spread connections over (127.0.0.1 … 127.0.0.N); 0 lets the kernel pick.")
    var sources: Int = 0
    @Option(help: "Runs; each is reported, then the medians.") var runs: Int = 1
    @Option(help: "Write every run's result to this JSON file.") var output: String?
    @Option(help: "Write the latency distribution of the median runs to this SVG file.") var chart: String?
    @Option(parsing: .upToNextOption, help: "Ports of other server processes (e.g. Redis) whose CPU counts in each result.")
    var measurePorts: [Int] = []

    func secret() throws -> String {
        guard let secret = jwtSecret ?? ProcessEnvironment.current["SWITCHBOARD_JWT_SECRET"], !secret.isEmpty else {
            throw ValidationError("no secret: pass --jwt-secret or set SWITCHBOARD_JWT_SECRET")
        }
        return secret
    }

    func endpoints() throws -> [BenchEndpoint] {
        do { return try urls.map { try BenchEndpoint(url: $0) } } catch { throw ValidationError("\(error)") }
    }

    func sourceAddresses() throws -> IPAddresses {
        do { return try IPAddresses(count: sources) } catch { throw ValidationError("\(error)") }
    }
}

/// The push secret and the Gateway API addresses, for scenarios that push like a backend.
struct GatewayOptions: ParsableArguments {
    @Option(parsing: .upToNextOption, help: "Gateway API addresses (host:port) to push through, round-robin.")
    var gateways: [String] = ["127.0.0.1:8081"]
    @Option(help: "The nodes' push secret (SWITCHBOARD_PUSH_SECRET).") var pushSecret: String?

    func secret() throws -> String {
        guard let secret = pushSecret ?? ProcessEnvironment.current["SWITCHBOARD_PUSH_SECRET"], !secret.isEmpty else {
            throw ValidationError("no push secret: pass --push-secret or set SWITCHBOARD_PUSH_SECRET")
        }
        return secret
    }

    func endpoints() throws -> [GRPCEndpoint] {
        try gateways.map { address in
            guard let endpoint = GRPCEndpoint(address) else { throw ValidationError("--gateways: \(address) is not host:port") }
            return endpoint
        }
    }
}
