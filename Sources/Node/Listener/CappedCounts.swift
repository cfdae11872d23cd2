import Synchronization

/// Counts by key with a cap per key: the connections not yet upgraded of each source
/// address (so that half-sent requests from one place cannot take the sockets real
/// clients need), and the connections of each user on this node (so that one account
/// cannot hold unbounded memory and presence). Authenticated connections as a whole are
/// counted against `maxConnections` instead (`ConnectionSlots`).
final class CappedCounts: Sendable {
    let capacityPerKey: Int
    private let counts = Mutex<[String: Int]>([:])

    init(capacityPerKey: Int) {
        self.capacityPerKey = capacityPerKey
    }

    /// Counts one more for `key`; false (and not counted) when `key` is at its cap.
    func admit(_ key: String) -> Bool {
        counts.withLock { counts in
            let count = counts[key, default: 0]
            guard count < capacityPerKey else { return false }
            counts[key] = count + 1
            return true
        }
    }

    /// One of `key`'s ended.
    func release(_ key: String) {
        counts.withLock { counts in
            guard let count = counts[key] else { return }
            counts[key] = count > 1 ? count - 1 : nil
            if counts.isEmpty { counts = [:] }  // give a burst's storage back
        }
    }

    func count(of key: String) -> Int {
        counts.withLock { $0[key, default: 0] }
    }
}
