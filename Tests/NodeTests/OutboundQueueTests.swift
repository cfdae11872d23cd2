import NIOCore
import NIOWebSocket
@testable import Node
import Synchronization
import Testing

@Suite("Outbound queue", .timeLimit(.minutes(2)))
struct OutboundQueueTests {
    private func frame(_ size: Int) -> EncodedFrame {
        EncodedFrame(opcode: .text, data: ByteBuffer(repeating: 0x61, count: size))
    }

    /// How often the queue woke its pump.
    private final class Wakes: Sendable {
        let count = Atomic<Int>(0)
    }

    /// A queue whose wake-ups are counted, as the write pump would receive them.
    private func queue(maxMessages: Int, maxBytes: Int) -> (OutboundQueue, Wakes) {
        let wakes = Wakes()
        return (OutboundQueue(maxMessages: maxMessages, maxBytes: maxBytes) { wakes.count.add(1, ordering: .relaxed) }, wakes)
    }

    @Test("frames come out in order, in batches")
    func order() throws {
        let (queue, _) = queue(maxMessages: 10, maxBytes: 1000)
        for size in 1...3 { #expect(queue.enqueue(frame(size)) == .queued) }
        #expect(try queue.take()?.get().map(\.byteCount) as [Int]? == [1, 2, 3])
        #expect(queue.take() == nil)
    }

    @Test("passing the message limit overflows and drops what was queued")
    func messageLimit() {
        let (queue, _) = queue(maxMessages: 2, maxBytes: 1000)
        #expect(queue.enqueue(frame(1)) == .queued)
        #expect(queue.enqueue(frame(1)) == .queued)
        #expect(queue.enqueue(frame(1)) == .overflow(dropped: 3))
        #expect(queue.enqueue(frame(1)) == .ended)
        guard case .failure(let ended)? = queue.take(), case .overflow(let dropped) = ended.ending else {
            Issue.record("expected an overflow")
            return
        }
        #expect(dropped == 3)
    }

    @Test("passing the byte limit overflows")
    func byteLimit() {
        let (queue, _) = queue(maxMessages: 100, maxBytes: 100)
        #expect(queue.enqueue(frame(60)) == .queued)
        #expect(queue.enqueue(frame(60)) == .overflow(dropped: 2))
    }

    @Test("the pump is woken once until it takes, and shutdown flushes before ending")
    func wakeAndShutdown() throws {
        let (queue, wakes) = queue(maxMessages: 10, maxBytes: 1000)
        _ = queue.enqueue(frame(5))
        _ = queue.enqueue(frame(6))
        #expect(wakes.count.load(ordering: .relaxed) == 1)
        #expect(try queue.take()?.get().map(\.byteCount) as [Int]? == [5, 6])
        _ = queue.enqueue(frame(7))
        queue.finish(.shutdown)
        #expect(wakes.count.load(ordering: .relaxed) == 2)
        #expect(try queue.take()?.get().map(\.byteCount) as [Int]? == [7])
        guard case .failure(let ended)? = queue.take(), case .shutdown = ended.ending else {
            Issue.record("expected shutdown")
            return
        }
    }
}
