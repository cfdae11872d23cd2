import NIOCore
import NIOWebSocket
@testable import Node
import Routing
import Testing

/// The switch from replay to live on one connection: in inbox order, none twice, none lost.
@Suite("Inbox cursor")
struct InboxCursorTests {
    private func frame(_ text: String) -> EncodedFrame {
        EncodedFrame(opcode: .text, data: ByteBuffer(string: text))
    }

    private func at(_ offset: UInt64, _ epoch: String = "e1") -> InboxPosition {
        InboxPosition(epoch: epoch, offset: offset)
    }

    private func texts(_ frames: [EncodedFrame]) -> [String] {
        frames.map { String(buffer: $0.data) }
    }

    @Test("live pushes wait for the welcome; those the replay already sent are dropped, the rest follow it in order")
    func replayThenLive() {
        let cursor = InboxCursor(maxWaiting: 10)
        var sent: [EncodedFrame] = []
        // Pushes 4 and 5 arrive live while the inbox is read (it answers 3…5).
        #expect(cursor.offer(frame("4"), at: at(4), send: { sent.append($0) }) == .held)
        #expect(cursor.offer(frame("5"), at: at(5), send: { sent.append($0) }) == .held)
        #expect(sent.isEmpty, "nothing goes out before the welcome")
        #expect(cursor.live(from: at(5)) == at(3), "live from just before the first push that waited")
        #expect(cursor.live(from: at(2)) == at(2), "unless the inbox stands before it")
        #expect(cursor.live(from: InboxPosition(epoch: "other", offset: 9)) == InboxPosition(epoch: "other", offset: 9), "or in another epoch")
        cursor.welcome(first: [frame("welcome"), frame("3"), frame("4"), frame("5")], replayedTo: at(5)) { sent.append($0) }
        #expect(cursor.offer(frame("6"), at: at(6), send: { sent.append($0) }) == .send)
        #expect(cursor.offer(frame("6"), at: at(6), send: { sent.append($0) }) == .duplicate)
        #expect(texts(sent) == ["welcome", "3", "4", "5", "6"])
    }

    @Test("pushes that are not durable wait for the welcome too, in arrival order with durable ones; after it they go out at once")
    func livePushesWaitForTheWelcome() {
        let cursor = InboxCursor(maxWaiting: 3)
        var sent: [EncodedFrame] = []
        #expect(cursor.offer(live: frame("a"), send: { sent.append($0) }) == .held)
        #expect(cursor.offer(frame("4"), at: at(4), send: { sent.append($0) }) == .held)
        #expect(cursor.offer(live: frame("b"), send: { sent.append($0) }) == .held)
        #expect(cursor.offer(live: frame("c"), send: { sent.append($0) }) == .overflow, "the wait is bounded")
        #expect(sent.isEmpty, "nothing goes out before the welcome")
        #expect(cursor.live(from: at(9)) == at(3), "the first durable push that waits, not the first push")
        cursor.welcome(first: [frame("welcome"), frame("3"), frame("4")], replayedTo: at(4)) { sent.append($0) }
        #expect(cursor.offer(live: frame("d"), send: { sent.append($0) }) == .send)
        #expect(texts(sent) == ["welcome", "3", "4", "a", "b", "d"])
    }

    @Test("without a replay, everything that waited goes out after the welcome")
    func noReplay() {
        let cursor = InboxCursor(maxWaiting: 10)
        var sent: [EncodedFrame] = []
        _ = cursor.offer(frame("8"), at: at(8), send: { sent.append($0) })
        _ = cursor.offer(frame("9"), at: at(9), send: { sent.append($0) })
        cursor.welcome(first: [frame("welcome")], replayedTo: nil) { sent.append($0) }
        #expect(texts(sent) == ["welcome", "8", "9"])
    }

    @Test("a catch-up reads after the last durable push sent, or after where the welcome said live pushes continue; never before the welcome")
    func caughtUpTo() {
        let cursor = InboxCursor(maxWaiting: 10)
        var sent: [EncodedFrame] = []
        _ = cursor.offer(frame("7"), at: at(7), send: { sent.append($0) })
        #expect(cursor.caughtUpTo == nil, "nothing to catch up before the welcome")
        cursor.welcome(first: [frame("welcome")], replayedTo: nil, livesAfter: at(6)) { sent.append($0) }
        #expect(cursor.caughtUpTo == at(7), "the push that waited was sent")

        let fresh = InboxCursor(maxWaiting: 10)
        fresh.welcome(first: [frame("welcome")], replayedTo: nil, livesAfter: at(12)) { sent.append($0) }
        #expect(fresh.caughtUpTo == at(12), "no durable push yet: where the welcome said live ones continue")
        _ = fresh.offer(frame("13"), at: at(13), send: { sent.append($0) })
        #expect(fresh.caughtUpTo == at(13))
        _ = fresh.offer(frame("13 again"), at: at(13), send: { sent.append($0) })
        #expect(fresh.caughtUpTo == at(13), "a duplicate moves nothing")
    }

    @Test("a new epoch (the inbox expired and began again) is not taken for a duplicate")
    func newEpoch() {
        let cursor = InboxCursor(maxWaiting: 10)
        var sent: [EncodedFrame] = []
        cursor.welcome(first: [], replayedTo: at(40)) { sent.append($0) }
        #expect(cursor.offer(frame("old"), at: at(39), send: { sent.append($0) }) == .duplicate)
        #expect(cursor.offer(frame("new"), at: at(1, "e2"), send: { sent.append($0) }) == .send)
        #expect(texts(sent) == ["new"])
    }

    @Test("more pushes waiting than the limit is an overflow, not unbounded memory")
    func overflow() {
        let cursor = InboxCursor(maxWaiting: 2)
        var sent: [EncodedFrame] = []
        #expect(cursor.offer(frame("1"), at: at(1), send: { sent.append($0) }) == .held)
        #expect(cursor.offer(frame("2"), at: at(2), send: { sent.append($0) }) == .held)
        #expect(cursor.offer(frame("3"), at: at(3), send: { sent.append($0) }) == .overflow)
    }
}
