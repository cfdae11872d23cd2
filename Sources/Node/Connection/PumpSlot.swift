import NIOCore

/// Where a connection's frames reach its write pump directly, without an event passing the
/// pipeline: the pump puts itself here while it is in the pipeline. Read and written on the
/// connection's event loop only (checked); woken from anywhere.
final class PumpSlot: Sendable {
    let eventLoop: any EventLoop
    private let box: NIOLoopBoundBox<ConnectionPump?>

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        box = .makeEmptyBox(valueType: ConnectionPump.self, eventLoop: eventLoop)
    }

    /// The pump, while it serves the socket; on the event loop.
    var pump: ConnectionPump? {
        get { box.value }
        set { box.value = newValue }
    }

    /// Has the pump write what is queued: now when on its event loop, else in a task there.
    func wake() {
        if eventLoop.inEventLoop {
            box.value?.wake()
        } else {
            eventLoop.execute { self.box.value?.wake() }
        }
    }
}
