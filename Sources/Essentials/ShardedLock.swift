import Synchronization

/// A value split into shards, each behind its own lock and picked by a key's hash: event
/// loops that touch different keys (users, connections) seldom wait for one another,
/// where one lock over a map of every connection made them queue at each delivery
/// (docs/benchmarks.md, the relay at many connections).
package final class ShardedLock<Shard: Sendable>: Sendable {
    private final class Slot: Sendable {
        let mutex: Mutex<Shard>
        init(_ value: sending Shard) { mutex = Mutex(value) }
    }

    private let slots: [Slot]
    private let shift: Int

    /// `count` is rounded up to a power of two.
    package init(count: Int, _ make: () -> Shard) {
        var size = 1
        while size < count { size *= 2 }
        slots = (0..<size).map { _ in Slot(make()) }
        shift = UInt.bitWidth - size.trailingZeroBitCount
    }

    /// The shard `key` lives in, locked for `body`. It is picked by the hash's top bits, so
    /// a dictionary inside a shard (which buckets by the low bits) still spreads its keys.
    package func withLock<Key: Hashable, Result: Sendable>(for key: Key, _ body: (inout Shard) -> Result) -> Result {
        // A single shard shifts by the full width: Swift's `>>` then gives 0.
        let index = Int(UInt(bitPattern: key.hashValue) >> UInt(shift))
        return slots[index].mutex.withLock { body(&$0) }
    }

    /// Every shard in turn, each locked while `body` runs on it.
    package func forEach(_ body: (inout Shard) -> Void) {
        for slot in slots { slot.mutex.withLock { body(&$0) } }
    }
}
