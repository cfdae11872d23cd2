@testable import Node
import SwitchboardProtocol
import Testing

/// A push stream's window: what bounds the node's memory for one stream.
@Suite("Push stream window")
struct PushStreamWindowTests {
    func outcome(_ id: UInt64) -> Switchboard_Gateway_V1_PushStreamOutcome {
        var outcome = Switchboard_Gateway_V1_PushStreamOutcome()
        outcome.id = id
        return outcome
    }

    @Test("a slot is free again only once the writer took its outcome: outcomes nobody reads hold the reader back")
    func slotsFreedByTheWriter() async {
        let window = PushStreamWindow(window: 4)
        for id in 0..<4 {
            #expect(await window.reserve())
            window.complete(outcome(UInt64(id)))
        }
        #expect(window.taken == 4, "completed but unwritten outcomes still hold their slots")

        let fifth = Task { await window.reserve() }
        let batch = await window.next()
        #expect(batch?.map(\.id) == [0, 1, 2, 3], "every ready outcome in one batch, in completion order")
        #expect(await fifth.value)
        #expect(window.taken == 1, "the waiting reader got a freed slot")

        window.complete(outcome(4))
        window.finish()
        #expect(await window.next()?.map(\.id) == [4])
        #expect(await window.next() == nil, "finished and everything taken")
    }

    @Test("a writer waiting for outcomes gets the next one as it completes; finish with nothing in flight ends it")
    func writerWaits() async {
        let window = PushStreamWindow(window: 8)
        #expect(await window.reserve())
        let writer = Task { await window.next() }
        window.complete(outcome(9))
        #expect(await writer.value?.map(\.id) == [9])
        let last = Task { await window.next() }
        window.finish()
        #expect(await last.value == nil)
    }

    @Test("when the writer fails, a reader waiting for a slot is told to stop, and later outcomes are dropped")
    func writerGone() async {
        let window = PushStreamWindow(window: 2)
        #expect(await window.reserve())
        #expect(await window.reserve())
        let waiting = Task { await window.reserve() }
        window.complete(outcome(1))
        window.fail()
        #expect(await waiting.value == false, "no slot will ever be freed: the reader stops")
        window.complete(outcome(2))
        #expect(await window.reserve() == false)
        window.finish()
    }
}
