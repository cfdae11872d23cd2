import Foundation

/// One thread that lives as long as the process and starts the children that must die
/// with it (`ChildProcess.diesWithParent`): Linux sends the parent-death signal when the
/// thread that started a child ends, and the cooperative pool's and Dispatch's threads
/// come and go.
final class SpawningThread: @unchecked Sendable {
    static let shared = SpawningThread()

    private let condition = NSCondition()
    private var work: [() -> Void] = []

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
            var finished = false
            let done = NSCondition()
            condition.lock()
            work.append {
                let value = body()
                done.lock()
                result = value
                finished = true
                done.signal()
                done.unlock()
            }
            condition.signal()
            condition.unlock()
            done.lock()
            while !finished { done.wait() }
            done.unlock()
            return result!
        }
    }

    private func serve() {
        while true {
            condition.lock()
            while work.isEmpty { condition.wait() }
            let next = work.removeFirst()
            condition.unlock()
            next()
        }
    }
}
