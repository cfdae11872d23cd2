import RedisBackplane
import Routing
import Testing

@Suite("Holder book: when a push to a user needs no PUBLISH")
struct HolderBookTests {
    @Test("a user held here alone needs no publish once the JOINED answer counts this node only")
    func alone() {
        let book = HolderBook()
        #expect(book.mustPublish("bob"), "not held here: publish")
        #expect(book.hold("bob"))
        #expect(book.mustPublish("bob"), "before the exchange: publish")
        #expect(book.joined("bob", receivers: 1))
        #expect(!book.mustPublish("bob"))
        #expect(!book.hold("bob"), "a second connection is not the first")
        #expect(!book.release("bob"))
        #expect(!book.mustPublish("bob"))
        #expect(book.release("bob"), "the last connection")
        #expect(book.mustPublish("bob"))
    }

    @Test("a newcomer is ready only after every holder PUBLISH counted has said HERE, in either order")
    func newcomer() {
        let book = HolderBook()
        _ = book.hold("bob")
        #expect(!book.heard("n2", holds: "bob"), "HERE before the answer: not settled yet")
        #expect(!book.joined("bob", receivers: 3), "two others counted, one heard")
        #expect(!book.isReady("bob"))
        #expect(book.heard("n3", holds: "bob"), "the last one heard: ready")
        #expect(book.mustPublish("bob"), "others hold the user")
        book.heard("n2", left: "bob")
        #expect(book.mustPublish("bob"))
        book.heard("n3", left: "bob")
        #expect(!book.mustPublish("bob"), "every other holder left")
    }

    @Test("an existing holder learns of a newcomer from its JOINED and publishes from then on")
    func existingHolder() {
        let book = HolderBook()
        _ = book.hold("bob")
        _ = book.joined("bob", receivers: 1)
        #expect(!book.mustPublish("bob"))
        _ = book.heard("n2", holds: "bob")
        #expect(book.mustPublish("bob"))
        #expect(!book.heard("n2", holds: "bob"), "heard twice: nothing changes")
    }

    @Test("a publish that reaches this node alone forgets holders that are gone (a crash sends no LEFT)")
    func selfHealing() {
        let book = HolderBook()
        _ = book.hold("bob")
        _ = book.joined("bob", receivers: 2)
        _ = book.heard("dead", holds: "bob")
        #expect(book.mustPublish("bob"))
        book.published(to: "bob", receivers: 2)
        #expect(book.mustPublish("bob"), "still two subscribers")
        book.published(to: "bob", receivers: 1)
        #expect(!book.mustPublish("bob"))
    }

    @Test("a reset (the subscriber reconnected) forgets everything heard: publish until the exchange is done again")
    func reset() {
        let book = HolderBook()
        _ = book.hold("bob")
        _ = book.joined("bob", receivers: 1)
        book.reset()
        #expect(book.mustPublish("bob"))
        book.published(to: "bob", receivers: 1)
        #expect(book.mustPublish("bob"), "an unsettled user is not healed by a count")
        _ = book.joined("bob", receivers: 1)
        #expect(!book.mustPublish("bob"))
    }
}
