package import NIOCore
import Synchronization

/// The delay a `DelayProxy` adds to its link right now, switched while connections stay
/// open (the chaos scorecard's "latency to Redis" fault).
package final class LinkDelay: Sendable {
    private let nanoseconds: Atomic<Int64>

    package init(_ delay: TimeAmount = .zero) {
        nanoseconds = Atomic(delay.nanoseconds)
    }

    package convenience init(milliseconds: Int) {
        self.init(.milliseconds(Int64(milliseconds)))
    }

    package var current: TimeAmount {
        .nanoseconds(nanoseconds.load(ordering: .relaxed))
    }

    package func set(_ delay: TimeAmount) {
        nanoseconds.store(delay.nanoseconds, ordering: .relaxed)
    }

    package func set(milliseconds: Int) {
        set(.milliseconds(Int64(milliseconds)))
    }
}
