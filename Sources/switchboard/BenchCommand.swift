import ArgumentParser
import Bench

/// `switchboard bench`: the load generator (release builds give the real numbers).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load a running node with real WebSocket clients and report what it delivered.",
        subcommands: [Pair.self, Ring.self, Calls.self, Connect.self, Idle.self]
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

    struct Common: ParsableArguments {
        @Option(help: "WebSocket URL of the node.")
        var url: String = "ws://127.0.0.1:8080/ws"
        @Option(help: "The nodes' HS256 secret, to mint client tokens (SWITCHBOARD_JWT_SECRET).")
        var jwtSecret: String?

        func secret() throws -> String {
            guard let secret = jwtSecret ?? ProcessEnvironment.current["SWITCHBOARD_JWT_SECRET"], !secret.isEmpty else {
                throw ValidationError("no secret: pass --jwt-secret or set SWITCHBOARD_JWT_SECRET")
            }
            return secret
        }
    }

    struct Pair: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Messages/s and latency between two clients on one node.")
        @OptionGroup var common: Common
        @Option(help: "Messages to send.") var messages: Int = 100_000
        @Option(help: "Padding bytes per message.") var payload: Int = 64
        @Option(help: "Most messages in flight (sent, not yet received).") var window: Int = 256
        @Option(help: "Sender's frames: json or protobuf.") var format: String = "json"
        @Option(help: "Runs; each is reported, then the median.") var runs: Int = 1

        func run() async throws {
            guard let format = BenchFormat(rawValue: format) else { throw ValidationError("--format is json or protobuf") }
            let benchmark = PairBenchmark(
                url: common.url, secret: try common.secret(), messages: messages, payloadBytes: payload, window: window, format: format
            )
            try await BenchCommand.repeatRuns(runs, unit: "msg/s") {
                let result = try await benchmark.run()
                return (result.description, result.messagesPerSecond)
            }
        }
    }

    struct Ring: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Many clients in a ring, each streaming to the next; spread over --urls (two nodes: every message crosses)."
        )
        @OptionGroup var common: Common
        @Option(parsing: .upToNextOption, help: "Node WebSocket URLs; clients are spread round-robin (default: --url).")
        var urls: [String] = []
        @Option(help: "Clients in the ring.") var clients: Int = 1000
        @Option(help: "Messages each client sends.") var messages: Int = 200
        @Option(help: "Most messages in flight per sender.") var window: Int = 16
        @Option(help: "Padding bytes per message.") var payload: Int = 64
        @Option(help: "Runs; each is reported, then the median.") var runs: Int = 1

        func run() async throws {
            let benchmark = RingBenchmark(
                urls: urls.isEmpty ? [common.url] : urls, secret: try common.secret(), clients: clients,
                messagesPerClient: messages, window: window, payloadBytes: payload
            )
            try await BenchCommand.repeatRuns(runs, unit: "msg/s") {
                let result = try await benchmark.run()
                guard result.lost == 0 else { throw BenchError("\(result): \(result.lost) messages lost") }
                return (result.description, result.messagesPerSecond)
            }
        }
    }

    struct Calls: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Round-trip backend calls/s (location.update) through node → backend → node, closed loop."
        )
        @OptionGroup var common: Common
        @Option(help: "Concurrent clients, each with one call in flight.") var clients: Int = 1
        @Option(help: "Calls each client makes.") var calls: Int = 2000
        @Option(help: "Runs; each is reported, then the median.") var runs: Int = 1
        @Option(help: "location.update (through the Location backend) or ping (the node alone: the baseline).")
        var operation: String = "location.update"

        func run() async throws {
            guard let operation = CallsBenchmark.Operation(rawValue: operation) else {
                throw ValidationError("--operation is location.update or ping")
            }
            let benchmark = CallsBenchmark(
                url: common.url, secret: try common.secret(), clients: clients, callsPerClient: calls, operation: operation
            )
            try await BenchCommand.repeatRuns(runs, unit: "calls/s") {
                let result = try await benchmark.run()
                guard result.failures == 0 else { throw BenchError("\(result): \(result.failures) calls failed") }
                return (result.description, result.callsPerSecond)
            }
        }
    }

    struct Connect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Handshakes/s, token check included: connect, await the welcome, close.")
        @OptionGroup var common: Common
        @Option(help: "Connections to make.") var connections: Int = 5000
        @Option(help: "Handshakes in flight at once.") var concurrency: Int = 100
        @Option(help: "Runs; each is reported, then the median.") var runs: Int = 1

        func run() async throws {
            let benchmark = ConnectBenchmark(url: common.url, secret: try common.secret(), connections: connections, concurrency: concurrency)
            try await BenchCommand.repeatRuns(runs, unit: "handshakes/s") {
                let result = try await benchmark.run()
                guard result.failures == 0 else { throw BenchError("\(result): \(result.failures) connections failed") }
                return (result.description, result.perSecond)
            }
        }
    }

    struct Idle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Node memory per idle connection.")
        @OptionGroup var common: Common
        @Option(help: "Connections to hold.") var connections: Int = 1000
        @Option(help: "PID of the node process, to read its memory from /proc.") var nodePid: Int32
        @Option(help: "Seconds to wait after the last connect before reading memory.") var settle: Double = 2

        func run() async throws {
            print(try await IdleBenchmark(
                url: common.url, secret: try common.secret(), connections: connections, nodePID: nodePid,
                settle: .milliseconds(Int64(settle * 1000))
            ).run())
        }
    }
}
