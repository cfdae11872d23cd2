package import Essentials
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension ChildProcess {
    /// A child that the test watchdog kills when the test that started it outlives its
    /// limit (`TestWatchdog`). Fixtures that outlive any one test (the shared Redis) take a
    /// plain `ChildProcess.testChild()`.
    package static func guarded() -> ChildProcess {
        let child = testChild()
        child.watch = { name, pid in
            let registration = TestWatchdog.shared.guarding("\(name) (pid \(pid))") { kill(pid, SIGKILL) }
            return { registration.release() }
        }
        return child
    }

    /// A child of the test process: killed when that process dies, even by a crash, and
    /// writing what it prints to `.build/test-artifacts/logs/` unless told otherwise — not
    /// to the test process' own output, which `swift test` reads until every holder has
    /// closed it (a child outliving a crashed test process would hang the run).
    package static func testChild() -> ChildProcess {
        let child = ChildProcess()
        child.diesWithParent = true
        child.logDirectory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent(".build/test-artifacts/logs")
        return child
    }
}
