import ArgumentParser
import Bench
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `switchboard bench chaos`: the steady load `ops/chaos.sh` injects its faults into.
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Steady pushes (half durable) to clients of the Swift client library while faults are injected from outside; books every push by the second it was sent."
    )
    @OptionGroup var options: BenchOptions
    @OptionGroup var gateway: GatewayOptions
    @Option(help: "Clients (the client library, reconnecting on its own), spread over --urls.") var clients: Int = 2000
    @Option(help: "Pushes per second through the Gateway API, in all; every other one durable.") var rate: Double = 500
    @Option(help: "Backend calls per second (location.update from random clients).") var callRate: Double = 50
    @Option(help: "Seconds of load.") var duration: Double = 60
    @Option(help: "Connections besides the clients that read 256 bytes a second (a poor link), getting 2 KB pushes.") var slowReaders = 0
    @Option(help: "Pushes per second to the slow readers, in all (default: one per reader every 5 s).") var slowPushRate: Double?
    @Option(help: "Seconds between topic-less broadcasts through the Gateway API (0: none).") var broadcastEvery: Double = 10
    @Option(help: "Most seconds after the load for late deliveries before a push counts as lost (less once every durable push has arrived).")
    var settle: Double = 30
    @Option(help: "Write the report (second by second) to this JSON file.") var report: String?
    @Flag(help: "Stop the load when stdin closes (at most --duration): the fault script says when it is done; meanwhile `presence <label>` lines audit presence.")
    var untilInputEnds = false
    @Option(help: "The last this many clients connect to --isolated-host instead of the URLs' host (a fault script cuts their network alone).")
    var isolatedClients = 0
    @Option(help: "Where the isolated clients connect (a loopback address the nodes listen on).") var isolatedHost = "127.0.0.9"

    func run() async throws {
        var benchmark = ChaosBenchmark(
            urls: options.urls, gateways: try gateway.endpoints(), secret: try options.secret(), pushSecret: try gateway.secret(),
            clients: clients, rate: rate, duration: duration
        )
        benchmark.settle = settle
        benchmark.callRate = callRate
        benchmark.broadcastEvery = broadcastEvery
        benchmark.slowReaders = slowReaders
        benchmark.slowPushRate = slowPushRate ?? Double(slowReaders) / 5
        benchmark.untilInputEnds = untilInputEnds
        benchmark.isolatedClients = isolatedClients
        benchmark.isolatedHost = isolatedHost
        let result = try await benchmark.run()
        print(result)
        if let report { try result.json().write(to: URL(fileURLWithPath: report)) }
    }
}
