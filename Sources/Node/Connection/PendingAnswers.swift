import Synchronization

/// The client frames of one connection still waiting for their answer. A client's close
/// is echoed only once every frame it sent before the close has been answered (RFC 6455
/// §1.4: the data before a close is processed), so the close never overtakes a reply.
final class PendingAnswers: Sendable {
    private let owed = Atomic<Int>(0)
    /// The code to echo once nothing is owed; 0 while the client has not closed.
    private let closeCode = Atomic<Int>(0)
    private let queue: OutboundQueue

    init(queue: OutboundQueue) {
        self.queue = queue
    }

    /// A frame was accepted; its answer is owed until `end`.
    func begin() {
        owed.add(1, ordering: .sequentiallyConsistent)
    }

    /// A frame's answer is queued (or it needed none).
    func end() {
        if owed.subtract(1, ordering: .sequentiallyConsistent).newValue == 0 {
            finishIfClosing()
        }
    }

    /// The client closed with `code`: the queue ends once every owed answer is in it, and
    /// the pump echoes the close after writing them.
    func closeWhenAnswered(code: Int) {
        closeCode.store(code, ordering: .sequentiallyConsistent)
        if owed.load(ordering: .sequentiallyConsistent) == 0 {
            finishIfClosing()
        }
    }

    private func finishIfClosing() {
        let code = closeCode.load(ordering: .sequentiallyConsistent)
        if code != 0 { queue.finish(.peerClosed(code: code)) }
    }
}
