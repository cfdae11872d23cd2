import Dispatch
import Synchronization

extension Task where Failure == any Error {
    /// The task's result, or a `TestFailure` naming `what` once `limit` has passed (the
    /// task is then cancelled and left to finish on its own). Returns within `limit` even
    /// when neither the task nor the caller responds to cancellation: a timer thread
    /// outside the cooperative pool resumes the caller.
    package func value(within limit: Duration, _ what: String) async throws -> Success {
        let once = Once<Success>()
        return try await withCheckedThrowingContinuation { continuation in
            once.set(continuation)
            Task<Void, Never> {
                let result = await self.result
                once.take()?.resume(with: result)
            }
            let (seconds, attoseconds) = limit.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
                guard let continuation = once.take() else { return }
                self.cancel()
                continuation.resume(throwing: TestFailure("\(what) did not finish within \(limit)"))
            }
        }
    }
}

/// A continuation resumed by whichever comes first.
private final class Once<Success: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Success, any Error>?>(nil)
    func set(_ continuation: CheckedContinuation<Success, any Error>) { self.continuation.withLock { $0 = continuation } }
    func take() -> CheckedContinuation<Success, any Error>? { continuation.withLock { $0.take() } }
}
