#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Essentials
import Foundation

/// Generator processes for connection counts beyond one process's file limit. Each holds
/// its share of the clients until its stdin closes.
final class IdleWorkers: Sendable {
    private let children: [(process: ChildProcess, stdin: Pipe)]

    private init(children: [(process: ChildProcess, stdin: Pipe)]) {
        self.children = children
    }

    static func start(benchmark: IdleBenchmark, userPrefix: String) async throws -> IdleWorkers {
        guard let executable = benchmark.workerCommand.first else { throw BenchError("no worker command to start generator processes with") }
        var children: [(process: ChildProcess, stdin: Pipe)] = []
        var outputs: [Pipe] = []
        let share = benchmark.connections / benchmark.processes
        for worker in 0..<benchmark.processes {
            let first = worker * share
            let count = worker == benchmark.processes - 1 ? benchmark.connections - first : share
            let process = ChildProcess()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = Array(benchmark.workerCommand.dropFirst()) + [
                "--urls"] + benchmark.endpoints.map(\.description) + [
                "--jwt-secret", benchmark.secret, "--user-prefix", userPrefix, "--first", "\(first)", "--count", "\(count)",
                "--sources", "\(benchmark.sources.count)",
            ]
            let stdin = Pipe(), stdout = Pipe()
            process.standardInput = stdin
            process.standardOutput = stdout
            // Ctrl-C reaches only the generator; a worker ends when its stdin closes.
            process.ownProcessGroup = true
            try process.run()
            children.append((process, stdin))
            outputs.append(stdout)
        }
        let workers = IdleWorkers(children: children)
        // Each worker says "connected N" once its share is up, or exits with the reason on stderr.
        for (index, output) in outputs.enumerated() {
            let line = await Self.firstLine(of: output)
            guard line.hasPrefix("connected") else {
                await workers.stop()
                throw BenchError("generator process \(index + 1) of \(benchmark.processes) failed (its error is above)")
            }
        }
        return workers
    }

    func stop() async {
        for child in children { try? child.stdin.fileHandleForWriting.close() }
        for child in children {
            while child.process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    /// Reads up to the first newline on a thread of its own.
    private static func firstLine(of pipe: Pipe) async -> String {
        await withCheckedContinuation { continuation in
            let handle = pipe.fileHandleForReading
            Thread {
                var bytes: [UInt8] = []
                while true {
                    let chunk = handle.readData(ofLength: 1)
                    guard let byte = chunk.first, byte != UInt8(ascii: "\n") else { break }
                    bytes.append(byte)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }.start()
        }
    }
}
