import Routing
import Synchronization
import Testing

/// The inbox of a node without Redis: begun by a connect or a backend's explicit ask, gone
/// `ttl` after its latest push or connect — on an injected clock.
@Suite("In-process inboxes")
struct InProcessInboxTests {
    final class Clock: Sendable {
        let instant = Mutex(ContinuousClock.now)
        func advance(_ by: Duration) { instant.withLock { $0 += by } }
        var now: ContinuousClock.Instant { instant.withLock { $0 } }
    }

    private static func store(_ bus: InProcessRelayBus, _ user: String, beginsInbox: Bool = false) -> StoredPush? {
        let result = Mutex<StoredPush?>(nil)
        bus.store(PushPayload(from: "backend", kind: "note", data: Array("1".utf8)), from: "node-1", forUser: user, beginsInbox: beginsInbox) { answer in
            result.withLock { $0 = try? answer.get() }  // answered synchronously
        }
        return result.withLock { $0 }
    }

    @Test("a push by kind to a user who never connected keeps nothing; a connect or a backend's explicit ask begins the inbox")
    func begun() async throws {
        let clock = Clock()
        let bus = InProcessRelayBus(inbox: InboxPolicy(ttl: .seconds(60)), now: { clock.now })
        #expect(Self.store(bus, "ghost")?.position == nil)
        #expect(try await bus.readInbox(of: "ghost", after: 0, until: nil, limit: 10, maxBytes: .max, beginning: false).epoch == nil)
        #expect(bus.inboxCount == 0)

        let welcome = try await bus.readInbox(of: "ann", after: 0, until: nil, limit: 0, maxBytes: .max, beginning: true)
        let epoch = try #require(welcome.epoch)
        #expect(Self.store(bus, "ann")?.position == InboxPosition(epoch: epoch, offset: 1))
        #expect(Self.store(bus, "bea", beginsInbox: true)?.position?.offset == 1)
    }

    @Test("an inbox expires ttl after its latest push or connect, and expired ones are swept as others are made")
    func expires() async throws {
        let clock = Clock()
        let bus = InProcessRelayBus(inbox: InboxPolicy(ttl: .seconds(60)), now: { clock.now })
        _ = try await bus.readInbox(of: "ann", after: 0, until: nil, limit: 0, maxBytes: .max, beginning: true)
        clock.advance(.seconds(50))
        #expect(Self.store(bus, "ann")?.position?.offset == 1)
        clock.advance(.seconds(50))  // 100 s after the connect, 50 after the push
        #expect(try await bus.readInbox(of: "ann", after: 0, until: nil, limit: 10, maxBytes: .max, beginning: false).pushes.count == 1)
        clock.advance(.seconds(11))
        #expect(try await bus.readInbox(of: "ann", after: 0, until: nil, limit: 10, maxBytes: .max, beginning: false).epoch == nil)
        #expect(Self.store(bus, "ann")?.position == nil, "expired: a push by kind does not begin it again")

        for n in 0..<2000 { _ = Self.store(bus, "user-\(n)", beginsInbox: true) }
        clock.advance(.seconds(61))
        for n in 0..<2000 { _ = Self.store(bus, "later-\(n)", beginsInbox: true) }
        #expect(bus.inboxCount < 4000, "the expired ones were swept")
        #expect(bus.inboxCount >= 2000)
    }
}
