import Routing
import Testing

/// When a resume recovers: the inbox still holds everything after the asked position.
@Suite("Inbox read")
struct InboxReadTests {
    private let inbox = InboxRead(epoch: "e1", latest: 50, oldest: 11, pushes: [])

    @Test("recovered while nothing after the position was trimmed; not when it was, or the epoch changed, or the inbox is gone")
    func recovers() {
        #expect(inbox.recovers(after: nil))
        #expect(inbox.recovers(after: InboxPosition(epoch: "e1", offset: 10)), "11 is the next one, and it is kept")
        #expect(inbox.recovers(after: InboxPosition(epoch: "e1", offset: 50)))
        #expect(inbox.recovers(after: InboxPosition(epoch: "", offset: 30)), "no epoch: the offset is trusted")
        #expect(!inbox.recovers(after: InboxPosition(epoch: "e1", offset: 9)), "10 was trimmed")
        #expect(!inbox.recovers(after: InboxPosition(epoch: "e0", offset: 30)), "another life of the inbox")
        #expect(!inbox.recovers(after: InboxPosition(epoch: "e1", offset: 51)), "not a position of this inbox")
        #expect(inbox.recovers(after: InboxPosition(epoch: "e0", offset: 0)), "offset 0 asks for everything there is")
        let gone = InboxRead(epoch: nil, latest: 0, oldest: 0, pushes: [])
        #expect(!gone.recovers(after: InboxPosition(epoch: "e1", offset: 3)), "the inbox expired")
        #expect(gone.recovers(after: InboxPosition(epoch: "", offset: 0)))
    }
}
