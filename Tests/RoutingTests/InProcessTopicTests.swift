import Identity
import Routing
import Synchronization
import Testing

/// A node's connections as a list of what reached them, for the in-process bus.
private final class RecordingDelivery: LocalDelivery {
    let topics: Set<String>
    let received = Mutex<[(PushPayload, PushAudience)]>([])

    init(topics: Set<String>) {
        self.topics = topics
    }

    func deliver(_ push: PushPayload, to audience: PushAudience) -> Int {
        guard case .topic(let topic, _) = audience, topics.contains(topic) else { return 0 }
        received.withLock { $0.append((push, audience)) }
        return 1
    }

    func disconnect(_ audience: PushAudience, reason: String) -> Int { 0 }
    func holds(user: String) -> Bool { false }
    func count(of user: String) -> Int { 0 }
    func holds(topic: String) -> Bool { topics.contains(topic) }
    func count(ofTopic topic: String, except: ConnectionID?) -> Int { topics.contains(topic) ? 1 : 0 }
    func change(_ audience: PushAudience, topic: String, subscribe: Bool) -> Int { 0 }
}

@Suite("Topics on the in-process relay bus")
struct InProcessTopicTests {
    @Test("a publish reaches the interested nodes once each, and is counted: local subscribers and other nodes; interest ends with the last unsubscribe")
    func interest() async throws {
        let bus = InProcessRelayBus()
        let (a, b, c) = (RecordingDelivery(topics: ["room:1"]), RecordingDelivery(topics: ["room:1"]), RecordingDelivery(topics: []))
        for (id, delivery) in [("a", a), ("b", b), ("c", c)] { try await bus.attach(nodeID: id, delivery: delivery) }
        await bus.subscribe(topic: "room:1", nodeID: "a")
        await bus.subscribe(topic: "room:1", nodeID: "b")
        await bus.subscribe(topic: "room:1", nodeID: "b")

        var push = PushPayload(from: "ann", kind: "message", data: Array("1".utf8))
        push.topic = "room:1"
        let router = PushRouter(nodeID: "a", local: a, bus: bus)
        let outcome = try await withCheckedThrowingContinuation { continuation in
            router.push(push, to: .topic("room:1")) { continuation.resume(with: $0) }
        }
        #expect(outcome == PushOutcome(localConnections: 1, relayedNodes: 1))
        #expect(a.received.withLock { $0.count } == 1 && b.received.withLock { $0.count } == 1)
        #expect(c.received.withLock { $0.isEmpty }, "node c has no subscriber")
        #expect(b.received.withLock { $0.first?.0.topic } == "room:1")

        // b held two subscriptions: after one unsubscribe it is still interested, after both not.
        bus.unsubscribe(topic: "room:1", nodeID: "b")
        let still = try await withCheckedThrowingContinuation { continuation in router.push(push, to: .topic("room:1")) { continuation.resume(with: $0) } }
        #expect(still.relayedNodes == 1)
        bus.unsubscribe(topic: "room:1", nodeID: "b")
        let alone = try await withCheckedThrowingContinuation { continuation in router.push(push, to: .topic("room:1")) { continuation.resume(with: $0) } }
        #expect(alone == PushOutcome(localConnections: 1, relayedNodes: 0))
    }
}

@Suite("Server-side subscriptions kept in process")
struct InProcessUserTopicStoreTests {
    @Test("a user's list is bounded, kept ttl after the last connect or subscription, and read back sorted")
    func bounded() async throws {
        let clock = ManualInstant()
        let store = InProcessUserTopicStore(ttl: .seconds(10), now: { clock.now })
        #expect(try await store.add("room:b", for: "dan", limit: 2))
        #expect(try await store.add("room:a", for: "dan", limit: 2))
        #expect(try await store.add("room:a", for: "dan", limit: 2), "already there: not refused")
        #expect(try await !store.add("room:c", for: "dan", limit: 2), "full")
        #expect(try await store.topics(of: "dan") == ["room:a", "room:b"])
        clock.advance(.seconds(9))
        #expect(try await store.topics(of: "dan").count == 2, "a connect keeps it another ttl")
        clock.advance(.seconds(9))
        try await store.remove("room:a", for: "dan")
        #expect(try await store.topics(of: "dan") == ["room:b"])
        clock.advance(.seconds(11))
        #expect(try await store.topics(of: "dan").isEmpty, "expired")
    }
}

/// A clock the test moves.
private final class ManualInstant: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(_ by: Duration) { instant.withLock { $0 += by } }
}

