@testable import Backends
import SwitchboardProtocol
import Testing

/// The reference Chat backend's memory is bounded however many names a sender makes up.
@Suite("Chat backend store")
struct ChatStoreTests {
    @Test("messages to ever more made-up users keep at most maxConversations pairs; the active ones stay")
    func boundedPairs() async {
        let store = ChatStore(maxConversations: 100)
        _ = await store.append(from: "alice", to: "bob", text: "first", at: 0)
        for n in 0..<1_000 {
            _ = await store.append(from: "flooder", to: "ghost-\(n)", text: "hi", at: 0)
            if n % 50 == 0 { _ = await store.append(from: "bob", to: "alice", text: "still here \(n)", at: 0) }
        }
        #expect(await store.conversationCount <= 100)
        #expect(await store.history(between: "alice", and: "bob", limit: 1).first?.text == "still here 950")
        #expect(await store.history(between: "flooder", and: "ghost-0", limit: 1).isEmpty, "the quietest went first")
        #expect(await store.history(between: "flooder", and: "ghost-999", limit: 1).count == 1)
    }
}
