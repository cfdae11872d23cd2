import NIOCore
import Synchronization

/// How a connection's queue wakes its write pump: on the pump's loop the pump drains at
/// once; from another thread, through one task on that loop. Straight to the pump, not
/// through the pipeline's handlers, each of which a delivery would otherwise touch.
final class PumpBell: Sendable {
    /// Weak: the pipeline owns the pump, and the pump (through its connection and queue)
    /// owns this bell. Read only on the loop.
    private final class Target: @unchecked Sendable {
        weak var pump: ConnectionPump?
        init(_ pump: ConnectionPump) { self.pump = pump }
    }

    private let loop: any EventLoop
    private let target = AtomicLazyReference<Target>()

    init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Called once, on the loop, when the pump joins the pipeline (a ring before that is
    /// answered by the pump's first drain).
    func connect(_ pump: ConnectionPump) {
        loop.preconditionInEventLoop()
        _ = target.storeIfNil(Target(pump))
    }

    func ring() {
        guard let target = target.load() else { return }
        if loop.inEventLoop {
            target.pump?.wake()
        } else {
            loop.execute { target.pump?.wake() }
        }
    }
}
