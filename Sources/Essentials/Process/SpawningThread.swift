import Foundation

/// One thread that lives as long as the process and starts the children that must die
/// with it (`ChildProcess.diesWithParent`): Linux sends the parent-death signal when the
/// thread that started a child ends, and the cooperative pool's and Dispatch's threads
/// come and go.
final class SpawningThread: @unchecked Sendable {
    static let shared = SpawningThread()

    /// One call waiting to run; its closure is dropped before the caller is let go, so that
    /// the caller's non-escaping body has not escaped when `perform` returns.
    private final class Job {
        var body: (() -> Void)?
        var finished = false
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    private let condition = NSCondition()
    private var jobs: [Job] = []

    private init() {
        let thread = Thread { [unowned self] in self.serve() }
        thread.name = "child-spawner"
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// Runs `body` on the spawning thread and returns its result; the caller waits (a
    /// `posix_spawn`, well under a millisecond).
    func perform<Result>(_ body: () -> Result) -> Result {
        withoutActuallyEscaping(body) { body in
            var result: Result?
            let job = Job { result = body() }
            condition.lock()
            jobs.append(job)
            condition.broadcast()
            while !job.finished { condition.wait() }
            condition.unlock()
            return result!
        }
    }

    private func serve() {
        condition.lock()
        while true {
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.body?()
            condition.lock()
            job.body = nil
            job.finished = true
            condition.broadcast()
        }
    }
}
