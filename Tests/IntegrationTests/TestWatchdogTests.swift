import Essentials
import Foundation
import Testing
import NodeTestSupport
import TestSupport

/// The suite cannot hang: a test that blocks past its limit, ignoring cancellation, makes
/// the run fail and leaves nothing it started running.
@Suite("Test watchdog", .tags(.process, .redis))
struct TestWatchdogTests {
    /// Off unless `SWITCHBOARD_TEST_BLOCK=1`: starts a Redis server and a node on it, then
    /// waits on a continuation nobody resumes, which no cancellation ends.
    @Test(
        "a test that blocks past its limit (runs only with SWITCHBOARD_TEST_BLOCK=1)",
        .enabled(if: ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_BLOCK"] == "1"), .timeLimit(.minutes(1))
    )
    func blocksPastItsLimit() async throws {
        let redis = try await RedisServer.start()
        try await withCluster(nodes: 1, redis: redis) { _ in
            FileHandle.standardError.write(Data("blocking with redis-server pid \(redis.processIdentifier ?? 0)\n".utf8))
            await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
        }
    }

    /// Off unless `SWITCHBOARD_TEST_CRASH=1`: starts a Redis server and a node process,
    /// says their pids, then crashes the test process.
    @Test(
        "a test process that crashes (runs only with SWITCHBOARD_TEST_CRASH=1)",
        .enabled(if: ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_CRASH"] == "1"), .timeLimit(.minutes(1))
    )
    func crashes() async throws {
        let redis = try await RedisServer.start()
        try await withNodeProcesses(1, redis: redis) { nodes in
            FileHandle.standardOutput.write(Data("children \(redis.processIdentifier ?? 0) \(nodes[0].pid)\n".utf8))
            abort()
        }
    }

    @Test("a test process that crashes leaves no child running and none holding its output", .timeLimit(.minutes(3)))
    func crashedRunLeavesNothing() async throws {
        // Its errors go to a pipe, read to its end below: the end comes only once no process
        // holds the pipe's writing end.
        let errors = Pipe()
        let (run, ended, text) = try await runThisBinary(test: "TestWatchdogTests/crashes", environment: ["SWITCHBOARD_TEST_CRASH": "1"], errors: errors, limit: .seconds(60))
        #expect(ended, "\(text)")
        #expect(run.terminationReason == .uncaughtSignal, "the run crashed:\n\(text)")
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("children ") }, "the crashing test started its children:\n\(text)")
        let pids = line.split(separator: " ").dropFirst().compactMap { Int32($0) }
        // Whatever the outcome, nothing outlives this test.
        defer { for pid in pids where pid > 0 { kill(pid, SIGKILL) } }
        #expect(pids.count == 2 && !pids.contains(0), "\(line)")
        for pid in pids {
            try await waitUntil(timeout: .seconds(30)) { kill(pid, 0) != 0 && errno == ESRCH }
        }
        // Every holder is gone: this returns.
        _ = errors.fileHandleForReading.readDataToEndOfFile()
    }

    @Test("a run whose test blocks past its limit fails, and what that test started is ended", .timeLimit(.minutes(3)))
    func blockedRunFails() async throws {
        // Only the blocking test, with a limit of 3 s; the bound here is for this fixture
        // only: the watchdog ends the run seconds after the limit.
        let (run, ended, text) = try await runThisBinary(
            test: "TestWatchdogTests/blocksPastItsLimit",
            environment: ["SWITCHBOARD_TEST_BLOCK": "1", "SWITCHBOARD_TEST_LIMIT": "3", "SWITCHBOARD_TEST_GRACE": "2"],
            limit: .seconds(150)
        )
        #expect(ended, "the blocked run ended on its own; its output:\n\(text)")
        #expect(run.terminationStatus != 0, "the blocked run failed; its output:\n\(text)")
        #expect(text.contains("test watchdog: 'a test that blocks past its limit"), "the watchdog named the test:\n\(text)")
        #expect(text.contains("failing the run"), "\(text)")
        let pid = try #require(text.split(separator: "\n").first { $0.hasPrefix("blocking with redis-server pid ") }
            .flatMap { Int32($0.split(separator: " ").last ?? "") }, "the blocking test started its Redis:\n\(text)")
        try await waitUntil { kill(pid, 0) != 0 && errno == ESRCH }
    }

    /// Runs this very test binary on the one test `test` names, with `environment` added;
    /// its output (and its errors, unless `errors` takes them) goes to a file read back once
    /// it has ended, or once `limit` has passed and it was stopped.
    private func runThisBinary(
        test: String, environment extra: [String: String], errors: Pipe? = nil, limit: Duration
    ) async throws -> (run: ChildProcess, ended: Bool, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("test-run-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }
        let run = ChildProcess.guarded()
        run.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        run.arguments = ["--testing-library", "swift-testing", "--filter", test]
        run.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        run.standardOutput = output
        run.standardError = errors ?? output
        try run.run()
        let ended = await run.exit(within: limit)
        if !ended { await run.stop(grace: .seconds(1)) }
        return (run, ended, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
