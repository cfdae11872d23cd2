import Essentials
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Makes sure a test that outlives its time limit cannot hold the run for ever.
///
/// Swift Testing records a test past its `.timeLimit` as failed and cancels its task, but a
/// test that ignores cancellation (a continuation nobody resumes, a blocking wait) never
/// returns, and the run then idles until CI gives up. Every fixture registers what it
/// started here (`guarding`); a thread of its own, independent of the cooperative pool
/// and the event loops (either may be what is stuck), watches them:
///
/// 1. a fixture still held `grace` after its test's limit is ended (child processes are
///    killed, in-process nodes told to shut down, clients cancelled);
/// 2. `grace` after that, the test process prints what it ended, kills every child process
///    it started and exits with status 1. The test has failed already (Swift Testing
///    records its limit), so the run fails either way; this way it ends instead of idling
///    on a test that may never return.
///
/// A run whose test process lives past `SWITCHBOARD_TEST_RUN_LIMIT` seconds (default 1,800)
/// ends the same way, whatever is stuck. `SWITCHBOARD_TEST_LIMIT` (seconds) lowers every
/// test's limit and `SWITCHBOARD_TEST_GRACE` (seconds, default 20) sets the grace; the
/// watchdog's own test uses both to prove all this in seconds.
package final class TestWatchdog: @unchecked Sendable {
    package static let shared = TestWatchdog()

    /// One fixture's registration; `release()` it when the fixture has stopped.
    package final class Guard: Sendable {
        fileprivate let id: UInt64
        fileprivate init(id: UInt64) { self.id = id }
        package func release() { TestWatchdog.shared.release(id) }
    }

    private struct Entry {
        let test: String
        let what: String
        let deadline: ContinuousClock.Instant
        let end: @Sendable () -> Void
    }

    private let lock = NSLock()
    private var entries: [UInt64: Entry] = [:]
    /// What was ended, and when: the run fails `grace` later.
    private var ended: [(what: String, at: ContinuousClock.Instant)] = []
    private var nextID: UInt64 = 0
    let grace: Duration
    private let limitOverride: Duration?
    private let runDeadline: ContinuousClock.Instant

    private init() {
        let environment = ProcessInfo.processInfo.environment
        grace = .seconds(environment["SWITCHBOARD_TEST_GRACE"].flatMap(Int.init) ?? 20)
        limitOverride = environment["SWITCHBOARD_TEST_LIMIT"].flatMap(Int.init).map { .seconds($0) }
        runDeadline = .now + .seconds(environment["SWITCHBOARD_TEST_RUN_LIMIT"].flatMap(Int.init) ?? 1800)
        let thread = Thread { [unowned self] in self.watch() }
        thread.name = "test-watchdog"
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// Registers `what` (a node, a Redis server…) for the running test; `end` stops it
    /// from any thread without waiting (a signal, a shutdown trigger).
    package func guarding(_ what: String, end: @escaping @Sendable () -> Void) -> Guard {
        let test = Test.current
        let name = test.map { ($0.displayName ?? $0.name) } ?? "a test"
        let limit = [test?.timeLimit ?? .seconds(600), limitOverride ?? .seconds(Int.max / 2)].min()!
        return lock.withLock {
            nextID += 1
            entries[nextID] = Entry(test: name, what: what, deadline: .now + limit + grace, end: end)
            return Guard(id: nextID)
        }
    }

    private func release(_ id: UInt64) {
        _ = lock.withLock { entries.removeValue(forKey: id) }
    }

    private func watch() {
        while true {
            Thread.sleep(forTimeInterval: 0.5)
            let now = ContinuousClock.now
            let (due, firstEnded): ([Entry], ContinuousClock.Instant?) = lock.withLock {
                let due = entries.filter { now > $0.value.deadline }
                for (id, entry) in due {
                    entries[id] = nil
                    ended.append(("'\(entry.test)' (\(entry.what))", now))
                }
                return (Array(due.values), ended.first?.at)
            }
            for entry in due {
                FileHandle.standardError.write(Data("test watchdog: '\(entry.test)' is past its time limit; ending \(entry.what)\n".utf8))
                entry.end()
            }
            if let firstEnded, now - firstEnded > grace {
                let names = lock.withLock { Set(ended.map(\.what)).sorted().joined(separator: ", ") }
                fail("past their time limit: \(names)")
            }
            if now > runDeadline {
                let held = lock.withLock { Set(entries.values.map { "'\($0.test)' (\($0.what))" }).sorted().joined(separator: ", ") }
                fail("the test run is past SWITCHBOARD_TEST_RUN_LIMIT; still running: \(held.isEmpty ? "no fixture" : held)")
            }
        }
    }

    /// Ends the run: every child process this one started is killed, then the process exits 1.
    private func fail(_ reason: String) -> Never {
        FileHandle.standardError.write(Data("test watchdog: \(reason); failing the run\n".utf8))
        ChildProcess.killAll()
        Glibc._exit(1)
    }
}
