package import Essentials
#if canImport(Glibc)
import Glibc
#endif

extension ChildProcess {
    /// A child that the test watchdog kills when the test that started it outlives its
    /// limit (`TestWatchdog`). Fixtures that outlive any one test (the shared Redis) take a
    /// plain `ChildProcess.guarded()`.
    package static func guarded() -> ChildProcess {
        let child = ChildProcess()
        child.watch = { name, pid in
            let registration = TestWatchdog.shared.guarding("\(name) (pid \(pid))") { kill(pid, SIGKILL) }
            return { registration.release() }
        }
        return child
    }
}
