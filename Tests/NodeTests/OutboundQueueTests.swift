import NIOCore
import Testing
@testable import Node

@Suite("Outbound queue", .timeLimit(.minutes(2)))
struct OutboundQueueTests {
    private func frame(_ size: Int) -> EncodedFrame {
        EncodedFrame(opcode: .text, data: ByteBuffer(repeating: 0x61, count: size))
    }

    @Test("frames come out in order, in batches")
    func order() async {
        let queue = OutboundQueue(maxMessages: 10, maxBytes: 1000)
        for size in 1...3 { #expect(queue.enqueue(frame(size)) == .queued) }
        let batch = try? await queue.next().get()
        #expect(batch?.map(\.byteCount) == [1, 2, 3])
    }

    @Test("passing the message limit overflows and drops what was queued")
    func messageLimit() async {
        let queue = OutboundQueue(maxMessages: 2, maxBytes: 1000)
        #expect(queue.enqueue(frame(1)) == .queued)
        #expect(queue.enqueue(frame(1)) == .queued)
        #expect(queue.enqueue(frame(1)) == .overflow(dropped: 3))
        #expect(queue.enqueue(frame(1)) == .ended)
        guard case .failure(let ended) = await queue.next(), case .overflow(let dropped) = ended.ending else {
            Issue.record("expected an overflow")
            return
        }
        #expect(dropped == 3)
    }

    @Test("passing the byte limit overflows")
    func byteLimit() {
        let queue = OutboundQueue(maxMessages: 100, maxBytes: 100)
        #expect(queue.enqueue(frame(60)) == .queued)
        #expect(queue.enqueue(frame(60)) == .overflow(dropped: 2))
    }

    @Test("a waiting write pump wakes for a frame, and shutdown flushes before ending")
    func wakeAndShutdown() async throws {
        let queue = OutboundQueue(maxMessages: 10, maxBytes: 1000)
        async let first = queue.next()
        try await Task.sleep(for: .milliseconds(20))
        _ = queue.enqueue(frame(5))
        #expect(try await first.get().count == 1)
        _ = queue.enqueue(frame(7))
        queue.finish(.shutdown)
        #expect(try await queue.next().get().map(\.byteCount) == [7])
        guard case .failure(let ended) = await queue.next(), case .shutdown = ended.ending else {
            Issue.record("expected shutdown")
            return
        }
    }
}

