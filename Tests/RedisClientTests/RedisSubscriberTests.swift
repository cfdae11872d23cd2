import Logging
import NIOCore
import RedisClient
import Synchronization
import Testing
import TestSupport

@Suite("Redis subscriber against a real redis-server", .tags(.redis))
struct RedisSubscriberTests {
    final class Received: Sendable {
        let messages = Mutex<[(channel: String, payload: String)]>([])
        var payloads: [String] { messages.withLock { $0.map(\.payload) } }
    }

    /// What the subscriber's owner wants subscribed: the only record of it.
    final class Wanted: Sendable {
        let channels = Mutex<Set<String>>([])
        func want(_ channel: String, _ wanted: Bool) {
            channels.withLock { if wanted { $0.insert(channel) } else { $0.remove(channel) } }
        }
    }

    private func subscriber(_ endpoint: RedisEndpoint, fixed: [String], wanted: Wanted, into received: Received) -> RedisSubscriber {
        RedisSubscriber(
            endpoint: endpoint, channels: fixed, logger: Logger(label: "subscriber-test"),
            wanted: { channel in wanted.channels.withLock { $0.contains(channel) } },
            allWanted: { wanted.channels.withLock { Array($0) } }
        ) { channel, payload in
            received.messages.withLock { $0.append((String(decoding: channel, as: UTF8.self), String(decoding: payload, as: UTF8.self))) }
        }
    }

    /// How many subscribers Redis counts on `channel` (PUBLISH's answer).
    private func publish(_ redis: RedisConnection, _ channel: String, _ payload: String) async throws -> Int64 {
        try await redis.send("PUBLISH", channel, payload).integer ?? -1
    }

    @Test("wanted channels are subscribed, unwanted ones not, whatever order the refreshes run in; messages arrive in order")
    func holdAndRelease() async throws {
        let redis = try await RedisServer.shared()
        let prefix = "sub\(UInt32.random(in: 0...UInt32.max)):"
        let received = Received()
        let wanted = Wanted()
        let subscriber = subscriber(redis.endpoint, fixed: [prefix + "node"], wanted: wanted, into: received)
        let publisher = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "publisher"))
        defer {
            subscriber.stop()
            publisher.close()
        }
        subscriber.start()
        try await waitUntil { subscriber.isSubscribed }
        #expect(try await publish(publisher, prefix + "node", "fixed") == 1)

        wanted.want(prefix + "user:a", true)
        subscriber.refresh(prefix + "user:a")
        subscriber.refresh(prefix + "user:a")  // a repeated refresh changes nothing
        try await waitUntil { try await publish(publisher, prefix + "user:a", "probe") == 1 }
        for n in 0..<100 { _ = try await publish(publisher, prefix + "user:a", "m\(n)") }
        try await waitUntil { received.payloads.filter { $0.hasPrefix("m") }.count == 100 }
        #expect(received.payloads.filter { $0.hasPrefix("m") } == (0..<100).map { "m\($0)" })

        // A stale refresh (it ran after the channel was wanted again) subscribes, not unsubscribes.
        wanted.want(prefix + "user:a", false)
        wanted.want(prefix + "user:a", true)
        subscriber.refresh(prefix + "user:a")
        #expect(try await publish(publisher, prefix + "user:a", "still wanted") == 1)
        wanted.want(prefix + "user:a", false)
        subscriber.refresh(prefix + "user:a")
        try await waitUntil { try await publish(publisher, prefix + "user:a", "gone") == 0 }
    }

    @Test("after Redis restarts, the subscriber reconnects and subscribes to its fixed and wanted channels again by itself")
    func resubscribes() async throws {
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        let received = Received()
        let wanted = Wanted()
        let subscriber = subscriber(redis.endpoint, fixed: ["node"], wanted: wanted, into: received)
        let publisher = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "publisher"))
        defer {
            subscriber.stop()
            publisher.close()
        }
        // Wanted before the start (the owner refreshes channels it wants later): more
        // than one SUBSCRIBE's worth.
        for user in 0..<1500 { wanted.want("user:\(user)", true) }
        subscriber.start()
        try await waitUntil { subscriber.isSubscribed }
        try await waitUntil { try await publish(publisher, "user:1499", "x") == 1 }

        redis.kill()
        try await waitUntil { !subscriber.isSubscribed }
        try await redis.launch()
        try await waitUntil { subscriber.isSubscribed }
        try await waitUntil { (try? await publish(publisher, "user:1499", "back")) == 1 }
        #expect(try await publish(publisher, "user:0", "back") == 1)
        #expect(try await publish(publisher, "node", "back") == 1)
        try await waitUntil { received.payloads.contains("back") }
    }
}
