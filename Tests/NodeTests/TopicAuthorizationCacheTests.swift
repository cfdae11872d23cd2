@testable import Node
import Testing

/// The authorizer's answers in the node's cache, at times the test gives.
@Suite("Topic authorization cache")
struct TopicAuthorizationCacheTests {
    typealias Key = TopicAuthorizationCache.Key

    @Test("an answer is reused until its TTL has passed, per user, topic and action; denials too")
    func expiry() {
        var cache = TopicAuthorizationCache(ttl: .seconds(10))
        let alice = Key(user: "alice", topic: "dm:alice+bob", action: .subscribe)
        cache.store(.allowed, for: alice, now: .seconds(100))
        #expect(cache.decision(for: alice, now: .seconds(100)) == .allowed)
        #expect(cache.decision(for: alice, now: .seconds(110) - .milliseconds(1)) == .allowed)
        #expect(cache.decision(for: Key(user: "alice", topic: "dm:alice+bob", action: .publish), now: .seconds(101)) == nil)
        #expect(cache.decision(for: Key(user: "bob", topic: "dm:alice+bob", action: .subscribe), now: .seconds(101)) == nil)
        #expect(cache.decision(for: Key(user: "alice", topic: "dm:alice+carol", action: .subscribe), now: .seconds(101)) == nil)
        #expect(cache.decision(for: alice, now: .seconds(110)) == nil, "expired at exactly its TTL")
        #expect(cache.count == 0, "and dropped")

        let carol = Key(user: "carol", topic: "dm:alice+bob", action: .subscribe)
        cache.store(.denied("members only"), for: carol, now: .seconds(200))
        #expect(cache.decision(for: carol, now: .seconds(205)) == .denied("members only"))
        cache.store(.allowed, for: carol, now: .seconds(206))
        #expect(cache.decision(for: carol, now: .seconds(215)) == .allowed, "a newer answer replaces the older and its expiry")
    }

    @Test("a TTL of 0 keeps nothing")
    func zeroTTL() {
        var cache = TopicAuthorizationCache(ttl: .zero)
        let key = Key(user: "alice", topic: "dm:x", action: .publish)
        cache.store(.allowed, for: key, now: .seconds(1))
        #expect(cache.decision(for: key, now: .seconds(1)) == nil)
    }

    @Test("full, it drops expired answers first, then all; it never holds more than its capacity")
    func capacity() {
        var cache = TopicAuthorizationCache(ttl: .seconds(10), capacity: 4)
        func key(_ n: Int) -> Key { Key(user: "u\(n)", topic: "dm:x", action: .subscribe) }
        cache.store(.allowed, for: key(0), now: .seconds(0))
        cache.store(.allowed, for: key(1), now: .seconds(0))
        cache.store(.allowed, for: key(2), now: .seconds(5))
        cache.store(.allowed, for: key(3), now: .seconds(5))
        cache.store(.allowed, for: key(4), now: .seconds(12))
        #expect(cache.count == 3, "the two expired went")
        #expect(cache.decision(for: key(2), now: .seconds(12)) == .allowed)
        cache.store(.allowed, for: key(5), now: .seconds(12))
        cache.store(.allowed, for: key(6), now: .seconds(12))
        #expect(cache.count == 1, "none expired: emptied")
        #expect(cache.decision(for: key(6), now: .seconds(12)) == .allowed)
        cache.store(.denied("no"), for: key(6), now: .seconds(13))
        #expect(cache.count == 1, "replacing an answer needs no room")
    }
}
