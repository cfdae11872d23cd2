import Synchronization

/// Connections not yet upgraded (so not yet authenticated), counted by source address:
/// one address may hold at most `capacityPerAddress` of them, so that half-sent requests
/// from one place cannot take the sockets real clients need. Authenticated connections
/// are counted against `maxConnections` instead (`ConnectionSlots`).
final class PendingConnections: Sendable {
    let capacityPerAddress: Int
    private let counts = Mutex<[String: Int]>([:])

    init(capacityPerAddress: Int) {
        self.capacityPerAddress = capacityPerAddress
    }

    /// Counts a new connection from `address`; false (and not counted) when that address
    /// is at its cap.
    func admit(_ address: String) -> Bool {
        counts.withLock { counts in
            let count = counts[address, default: 0]
            guard count < capacityPerAddress else { return false }
            counts[address] = count + 1
            return true
        }
    }

    /// The connection from `address` was upgraded or closed.
    func release(_ address: String) {
        counts.withLock { counts in
            guard let count = counts[address] else { return }
            counts[address] = count > 1 ? count - 1 : nil
            if counts.isEmpty { counts = [:] }  // give a burst's storage back
        }
    }

    func count(from address: String) -> Int {
        counts.withLock { $0[address, default: 0] }
    }
}
