import Synchronization

/// Remembers that a presence write (an announce, a withdraw, a topic join or leave) failed.
/// The write may or may not have reached Redis, and nothing else would mend it while the
/// connection and the lease stay up: the lease's next round restores the node's presence
/// whole (`NodeLeaseService`).
final class FailedWrites: Sendable {
    private let failed = Atomic(false)

    init() {}

    func record() {
        failed.store(true, ordering: .releasing)
    }

    /// Whether a write failed since the last call.
    func take() -> Bool {
        failed.exchange(false, ordering: .acquiringAndReleasing)
    }
}
