import Synchronization

/// Admission against `maxConnections`. A slot is taken when an upgrade is accepted,
/// before the connection reaches the local map, so that a burst of concurrent upgrades
/// cannot all pass a check of the map's size; it is given back when the socket closes.
final class ConnectionSlots: Sendable {
    let capacity: Int
    private let taken = Atomic<Int>(0)

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Takes a slot, or returns false when all are taken.
    func acquire() -> Bool {
        var current = taken.load(ordering: .relaxed)
        while current < capacity {
            let (exchanged, original) = taken.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release() {
        taken.subtract(1, ordering: .acquiringAndReleasing)
    }

    var inUse: Int { taken.load(ordering: .relaxed) }
}
