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

    private func subscriber(_ endpoint: RedisEndpoint, fixed: [String], into received: Received) -> RedisSubscriber {
        RedisSubscriber(endpoint: endpoint, channels: fixed, logger: Logger(label: "subscriber-test")) { channel, payload in
            received.messages.withLock { $0.append((String(decoding: channel, as: UTF8.self), String(decoding: payload, as: UTF8.self))) }
        }
    }

    /// How many subscribers Redis counts on `channel` (PUBLISH's answer).
    private func publish(_ redis: RedisConnection, _ channel: String, _ payload: String) async throws -> Int64 {
        try await redis.send("PUBLISH", channel, payload).integer ?? -1
    }

    @Test("held channels are subscribed while held (counted), released ones are not; messages arrive in order")
    func holdAndRelease() async throws {
        let redis = try await RedisServer.shared()
        let prefix = "sub\(UInt32.random(in: 0...UInt32.max)):"
        let received = Received()
        let subscriber = subscriber(redis.endpoint, fixed: [prefix + "node"], into: received)
        let publisher = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "publisher"))
        defer {
            subscriber.stop()
            publisher.close()
        }
        subscriber.start()
        try await waitUntil { subscriber.isSubscribed }
        #expect(try await publish(publisher, prefix + "node", "fixed") == 1)

        subscriber.hold(prefix + "user:a")
        subscriber.hold(prefix + "user:a")  // a second connection of the same user
        try await waitUntil { try await publish(publisher, prefix + "user:a", "probe") == 1 }
        for n in 0..<100 { _ = try await publish(publisher, prefix + "user:a", "m\(n)") }
        try await waitUntil { received.payloads.filter { $0.hasPrefix("m") }.count == 100 }
        #expect(received.payloads.filter { $0.hasPrefix("m") } == (0..<100).map { "m\($0)" })

        subscriber.release(prefix + "user:a")
        #expect(try await publish(publisher, prefix + "user:a", "still held") == 1, "one of two holds released: still subscribed")
        subscriber.release(prefix + "user:a")
        try await waitUntil { try await publish(publisher, prefix + "user:a", "gone") == 0 }
        #expect(try await subscriber.heldCount().get() == 0)
    }

    @Test("after Redis restarts, the subscriber reconnects and subscribes to its fixed and held channels again by itself")
    func resubscribes() async throws {
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        let received = Received()
        let subscriber = subscriber(redis.endpoint, fixed: ["node"], into: received)
        let publisher = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "publisher"))
        defer {
            subscriber.stop()
            publisher.close()
        }
        subscriber.start()
        for user in 0..<1500 { subscriber.hold("user:\(user)") }  // more than one SUBSCRIBE's worth
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
