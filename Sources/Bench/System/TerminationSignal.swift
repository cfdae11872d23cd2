import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Lets SIGTERM end a wait instead of the process, so a held run still reports.
enum TerminationSignal {
    private final class Flag: Sendable {
        let raised = Atomic<Bool>(false)
    }

    static func wait(atMost limit: Duration) async {
        let flag = Flag()
        signal(SIGTERM, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM)
        source.setEventHandler { flag.raised.store(true, ordering: .relaxed) }
        source.resume()
        let deadline = ContinuousClock.now.advanced(by: limit)
        while !flag.raised.load(ordering: .relaxed), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        source.cancel()
        signal(SIGTERM, SIG_DFL)
    }
}
