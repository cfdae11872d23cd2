import ArgumentParser
import Bench
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `switchboard bench delay-proxy`: a TCP proxy whose added delay SIGUSR1 switches on and
/// SIGUSR2 off, for the chaos scorecard's latency-to-Redis fault.
struct DelayProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delay-proxy",
        abstract: "A TCP proxy that adds latency to everything it forwards, both ways, while switched on (SIGUSR1 on, SIGUSR2 off).",
        discussion: "Connections stay open when the delay is switched; bytes keep their order. Used by ops/chaos.sh in front of Redis, where the kernel has no netem."
    )
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port: Int
    @Option(help: "Where to forward to, host:port.") var target: String
    @Option(help: "Delay added each way while switched on, in milliseconds.") var delayMs = 200
    @Flag(help: "Start with the delay switched on.") var on = false

    func validate() throws {
        guard target.split(separator: ":").count == 2, Int(target.split(separator: ":")[1]) != nil else {
            throw ValidationError("--target must be host:port, not '\(target)'")
        }
        guard delayMs >= 0 else { throw ValidationError("--delay-ms must not be negative") }
    }

    func run() async throws {
        let parts = target.split(separator: ":")
        let delay = LinkDelay(milliseconds: on ? delayMs : 0)
        // Signals become switches; kept alive for the whole run.
        let sources = [(SIGUSR1, delayMs), (SIGUSR2, 0)].map { signalNumber, value in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler {
                delay.set(milliseconds: value)
                FileHandle.standardError.write(Data("delay proxy: \(value) ms each way\n".utf8))
            }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        try await DelayProxy.run(host: host, port: port, targetHost: String(parts[0]), targetPort: Int(parts[1])!, delay: delay)
    }
}
