import Foundation
import Logging
import NIOSSL
import ServiceLifecycleTestKit
import Node
import RedisClient
import Routing
import SwiftProtobuf
import SwitchboardClient
import SwitchboardProtocol
import Synchronization
import Testing
import NodeTestSupport
import TestSupport

/// Runs `body` with `client` running; the client is closed and its run loop awaited
/// whether `body` returns or throws.
private func running<Result: Sendable>(
    _ client: SwitchboardClient, _ body: @Sendable (SwitchboardClient) async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await client.run() }
        defer { client.close() }
        return try await body(client)
    }
}

private func client(_ urls: [String], _ token: TokenProvider, heartbeat: Duration? = nil) -> SwitchboardClient {
    var configuration = SwitchboardClientConfiguration(urls: urls, token: token)
    configuration.backoff = Backoff(base: .milliseconds(50), maximum: .milliseconds(500))
    configuration.heartbeatInterval = heartbeat
    configuration.callTimeout = testDeadline
    return SwitchboardClient(configuration: configuration)
}

/// Every state change a client makes, recorded as it happens.
private final class StateLog: Sendable {
    private let changes = Mutex<[StateChange]>([])
    init(_ client: SwitchboardClient) {
        Task { for await change in client.stateChanges { changes.withLock { $0.append(change) } } }
    }
    var all: [StateChange] { changes.withLock { $0 } }
}

@Suite("The Swift client against real nodes", .timeLimit(.minutes(2)))
struct SwitchboardClientTests {
    @Test("connects, sends across nodes, reads pushes as an AsyncStream, looks up presence")
    func sendAndPush() async throws {
        try await withCluster(nodes: 2) { cluster in
            let (one, two) = (cluster.nodes[0], cluster.nodes[1])
            let alice = client([one.url], .fixed(try await one.token(for: "alice")))
            let bob = client([two.url], .provider { _ in try await RunningNode.token(for: "bob") })
            try await running(alice) { alice in
                try await running(bob) { bob in
                    #expect(try await alice.connected().node == "node-1")
                    #expect(try await bob.connected() == bob.welcome)
                    #expect(bob.welcome?.user == "bob")
                    let outcome = try await alice.send(to: "bob", data: .init(structValue: ["n": .init(numberValue: 1)]), kind: "greeting")
                    #expect(outcome.delivered == 0 && outcome.relayedNodes == 1)
                    var pushes = bob.pushes.makeAsyncIterator()
                    let push = try #require(await pushes.next())
                    #expect(push.from == "alice" && push.kind == "greeting" && push.origin == .user)
                    #expect(push.data.structValue.fields["n"]?.numberValue == 1)

                    let presence = try await bob.presence(of: "alice")
                    #expect(presence.online && presence.count == 1 && presence.connections.map(\.node) == ["node-1"])
                    await #expect(throws: SwitchboardClientError.self) { try await alice.send(to: "nobody", data: .init(stringValue: "x")) }
                    do {
                        _ = try await alice.send(to: "nobody", data: .init(stringValue: "x"))
                    } catch let error as SwitchboardClientError {
                        #expect(error.code == "offline")
                    }
                    #expect(try await alice.ping() == "node-1")
                }
            }
        }
    }

    @Test("typed calls take and return the generated messages; a backend's push decodes as its message")
    func typedCalls() async throws {
        try await withNodeAndBackends { system in
            let alice = client([system.node.url], .fixed(try await system.node.token(for: "alice")))
            let bob = client([system.node.url], .fixed(try await system.node.token(for: "bob")))
            try await running(alice) { alice in
                try await running(bob) { bob in
                    try await alice.connected()
                    try await bob.connected()
                    let sent = try await alice.call(.chatSend, .with { $0.to = "bob"; $0.text = "typed hello" })
                    #expect(!sent.messageID.isEmpty && sent.delivered && sent.sentAtMs > 0)
                    var pushes = bob.pushes.makeAsyncIterator()
                    let push = try #require(await pushes.next())
                    #expect(push.kind == "chat.message" && push.origin == .backend)
                    let message = try push.decode(as: Switchboard_Chat_V1_ChatMessage.self)
                    #expect(message.text == "typed hello" && message.id == sent.messageID && message.sentAtMs == sent.sentAtMs)
                    let history = try await bob.call(.chatHistory, .with { $0.with = "alice" })
                    #expect(history.messages.map(\.text) == ["typed hello"])
                    _ = try await alice.call(.locationUpdate, .with { $0.latitude = 52.52; $0.longitude = 13.405 })
                    let nearby = try await bob.call(.locationNearby, .with { $0.latitude = 52.521; $0.longitude = 13.41; $0.radiusMeters = 5000 })
                    #expect(nearby.users.map(\.user) == ["alice"])
                    do {
                        _ = try await alice.call(.chatSend, .with { $0.to = "" })
                        Issue.record("an empty recipient was accepted")
                    } catch let error as SwitchboardClientError {
                        #expect(error.code == "invalid_argument")
                    }
                }
            }
        }
    }

    @Test("a drain (1012) moves the client at once to the next node, where pushes reach it")
    func drain() async throws {
        try await withCluster(nodes: 2) { cluster in
            let (one, two) = (cluster.nodes[0], cluster.nodes[1])
            let alice = client([one.url, two.url], .fixed(try await one.token(for: "alice")))
            let log = StateLog(alice)
            let bob = client([two.url], .fixed(try await two.token(for: "bob")))
            try await running(alice) { alice in
                try await running(bob) { bob in
                    #expect(try await alice.connected().node == "node-1")
                    try await bob.connected()
                    try await one.stop()
                    try await waitUntil { alice.welcome?.node == "node-2" }
                    try await waitUntil { log.all.contains { $0.state == .reconnecting } }
                    let moved = try #require(log.all.first { $0.state == .reconnecting })
                    #expect(moved.code == 1012 && moved.delay == .zero && moved.url == two.url)
                    _ = try await bob.send(to: "alice", data: .init(stringValue: "after the drain"))
                    var pushes = alice.pushes.makeAsyncIterator()
                    #expect(await pushes.next()?.data.stringValue == "after the drain")
                }
            }
        }
    }

    @Test("topics: a publish reaches the subscriber with its topic; topic presence names it; after a drain the client is subscribed again on the next node by itself; a refusal throws its code")
    func topics() async throws {
        try await withCluster(nodes: 2, configure: {
            $0.topicNamespaces = try! TopicNamespaces(parsing: "room:subscribe=any,publish=any,presence=on;feed:publish=none")
        }) { cluster in
            let (one, two) = (cluster.nodes[0], cluster.nodes[1])
            let alice = client([one.url, two.url], .fixed(try await one.token(for: "alice")))
            let bob = client([two.url], .fixed(try await two.token(for: "bob")))
            try await running(alice) { alice in
                try await running(bob) { bob in
                    #expect(try await alice.connected().limits?.topics == 128)
                    try await alice.subscribe(to: "room:1")
                    #expect(alice.subscriptions == ["room:1"])
                    let outcome = try await bob.publish(to: "room:1", data: .init(stringValue: "first"))
                    #expect(outcome.relayedNodes == 1)
                    var pushes = alice.pushes.makeAsyncIterator()
                    let first = await pushes.next()
                    #expect(first?.topic == "room:1" && first?.data.stringValue == "first")
                    let here = try await bob.presence(ofTopic: "room:1")
                    #expect(here.count == 1)
                    #expect(here.users.map(\.user) == ["alice"])
                    #expect(here.users.first?.connections.map(\.node) == ["node-1"])

                    try await one.stop()
                    try await waitUntil { alice.welcome?.node == "node-2" }
                    // Subscribed again by the client itself: a publish after that reaches it.
                    var round = 0
                    try await waitUntil {
                        round += 1
                        return try await bob.publish(to: "room:1", data: .init(numberValue: Double(round))).delivered == 1
                    }
                    #expect(await pushes.next()?.data.numberValue == Double(round), "only the publish after the resubscribe")
                    try await waitUntil { try await bob.presence(ofTopic: "room:1").users.first?.connections.map(\.node) == ["node-2"] }

                    await #expect { try await alice.subscribe(to: "feed:1") } throws: { ($0 as? SwitchboardClientError)?.code == "permission_denied" }
                    try await alice.unsubscribe(from: "room:1")
                    #expect(alice.subscriptions.isEmpty)
                    #expect(try await bob.publish(to: "room:1", data: .init(stringValue: "gone")).delivered == 0)
                }
            }
        }
    }

    @Test("topic history: the client resubscribes from the last position it saw after a drain, so what was published meanwhile arrives once, in order; the inbox position is left alone")
    func topicHistory() async throws {
        try await withCluster(nodes: 2, configure: {
            $0.topicNamespaces = try! TopicNamespaces(parsing: "news:subscribe=any,publish=any,history=100")
        }) { cluster in
            let (one, two) = (cluster.nodes[0], cluster.nodes[1])
            let alice = client([one.url, two.url], .fixed(try await one.token(for: "alice")))
            let bob = client([two.url], .fixed(try await two.token(for: "bob")))
            try await running(alice) { alice in
                try await running(bob) { bob in
                    try await alice.connected()
                    let answered = try #require(try await alice.subscribe(to: "news:1"))
                    #expect(answered.position.offset == 0 && answered.recovered == nil)
                    var pushes = alice.pushes.makeAsyncIterator()
                    for n in 1...3 { _ = try await bob.publish(to: "news:1", data: .init(numberValue: Double(n))) }
                    for n in 1...3 { #expect(await pushes.next()?.data.numberValue == Double(n)) }
                    #expect(alice.position(of: "news:1")?.offset == 3)

                    try await one.stop()
                    // Published while alice is away or coming back: the resubscribe from 3 brings them.
                    for n in 4...6 { _ = try await bob.publish(to: "news:1", data: .init(numberValue: Double(n))) }
                    for n in 4...6 { #expect(await pushes.next()?.data.numberValue == Double(n), "once each, in order") }
                    #expect(alice.welcome?.node == "node-2")
                    #expect(alice.position(of: "news:1")?.offset == 6)
                    #expect(alice.position == nil || alice.position?.offset == 0, "a topic's positions are not the inbox's")
                    _ = try await bob.publish(to: "news:1", data: .init(numberValue: 7))
                    #expect(await pushes.next()?.data.numberValue == 7)
                }
            }
        }
    }

    @Test("resume: a saved position brings what was stored while away; a drain loses nothing; a gap is filled; none twice, in order")
    func resume() async throws {
        try await withCluster(nodes: 2, configure: { $0.inbox.durableKinds = ["note"] }) { cluster in
            let (one, two) = (cluster.nodes[0], cluster.nodes[1])
            let bob = client([two.url], .fixed(try await two.token(for: "bob")))
            let note: @Sendable (Int) -> Google_Protobuf_Value = { n in .init(structValue: ["n": .init(numberValue: Double(n))]) }
            let number: @Sendable (Push) -> Int = { push in Int(push.data.structValue.fields["n"]?.numberValue ?? 0) }
            try await running(bob) { bob in
                try await bob.connected()
                // A first session sees notes 1…3, then goes away with its position.
                let first = client([one.url], .fixed(try await one.token(for: "alice")))
                let saved = try await running(first) { first in
                    try await first.connected()
                    var pushes = first.pushes.makeAsyncIterator()
                    for n in 1...3 {
                        #expect(try await bob.send(to: "alice", data: note(n), kind: "note").stored)
                        #expect(await pushes.next().map(number) == n)
                    }
                    return try #require(first.position)
                }
                #expect(saved.offset == 3)
                try await waitUntil { try await !bob.presence(of: "alice").online }
                for n in 4...6 {
                    let outcome = try await bob.send(to: "alice", data: note(n), kind: "note")
                    #expect(outcome.stored && outcome.delivered == 0 && outcome.relayedNodes == 0)
                }

                var configuration = SwitchboardClientConfiguration(urls: [one.url, two.url], token: .fixed(try await one.token(for: "alice")))
                configuration.backoff = Backoff(base: .milliseconds(50), maximum: .milliseconds(500))
                configuration.callTimeout = testDeadline
                configuration.position = saved
                let alice = SwitchboardClient(configuration: configuration)
                try await running(alice) { alice in
                    let welcome = try await alice.connected()
                    #expect(welcome.inbox.resumed && welcome.inbox.recovered && welcome.inbox.replayed == 3)
                    var pushes = alice.pushes.makeAsyncIterator()
                    var seen: [Push] = []
                    for _ in 4...6 { seen.append(try #require(await pushes.next())) }

                    // Node 1 drains while bob keeps sending: every note arrives once.
                    let draining = Task { try await one.stop() }
                    for n in 7...12 { _ = try await bob.send(to: "alice", data: note(n), kind: "note") }
                    try await draining.value
                    for _ in 7...12 { seen.append(try #require(await pushes.next())) }
                    #expect(alice.welcome?.node == "node-2")

                    // A note stored but never published (a relay message lost): the next one
                    // shows the jump, and the client fetches the missing one first.
                    let redis = RedisConnection(endpoint: cluster.redis.endpoint, logger: .init(label: "resume-test"))
                    defer { redis.close() }
                    var batch = Switchboard_Relay_V1_RelayBatch()
                    batch.originNode = "elsewhere"
                    var item = Switchboard_Relay_V1_RelayItem()
                    item.user = "alice"
                    item.from = "bob"
                    item.kind = "note"
                    item.dataJson = Data(#"{"n":13}"#.utf8)
                    batch.items = [item]
                    _ = try await redis.send([Array("XADD".utf8), Array("\(cluster.prefix)inbox:alice".utf8), Array("0-*".utf8), Array("p".utf8), try batch.serializedBytes()])
                    _ = try await bob.send(to: "alice", data: note(14), kind: "note")
                    for _ in 13...14 { seen.append(try #require(await pushes.next())) }

                    // The inbox begins again (Redis lost it): its first entry is stored but never
                    // published, so the first push the client sees of the new epoch is its
                    // second; the client fetches the first before it.
                    let inbox = Array("\(cluster.prefix)inbox:alice".utf8)
                    _ = try await redis.send([Array("DEL".utf8), inbox])
                    _ = try await redis.send("SET", "\(cluster.prefix)inbox-epoch:alice", "renewed")
                    item.dataJson = Data(#"{"n":15}"#.utf8)
                    batch.items = [item]
                    _ = try await redis.send([Array("XADD".utf8), inbox, Array("0-*".utf8), Array("p".utf8), try batch.serializedBytes()])
                    _ = try await bob.send(to: "alice", data: note(16), kind: "note")
                    for _ in 15...16 { seen.append(try #require(await pushes.next())) }

                    #expect(seen.map(number) == Array(4...16), "every note once, in order")
                    #expect(seen.compactMap(\.position?.offset) == Array(4...14).map(UInt64.init) + [1, 2])
                    #expect(seen.suffix(2).compactMap(\.position?.epoch) == ["renewed", "renewed"])
                    #expect(alice.position == InboxPosition(epoch: "renewed", offset: 2))
                }
            }
        }
    }

    @Test("a provider's fresh token is sent in band before the connection's expires; a fixed token's connection ends with 4001")
    func tokenRefresh() async throws {
        try await withNode { node in
            // Minted up front: the refresh is then as fast as a call. The client refreshes a
            // quarter of the lifetime early: 24 s gives a saturated machine 6 s for the round trip.
            let tokens = [try await RunningNode.token(for: "tess", validFor: .seconds(24)), try await RunningNode.token(for: "tess")]
            let asked = Mutex(0)
            let tess = client([node.url], .provider { _ in asked.withLock { count in defer { count += 1 }; return tokens[min(count, 1)] } })
            let log = StateLog(tess)
            try await running(tess) { tess in
                let welcome = try await tess.connected()
                let expiresAt = try #require(welcome.tokenExpiresAtMs)
                try await waitUntil(timeout: .seconds(30)) { Int64(Date().timeIntervalSince1970 * 1000) > expiresAt + 1000 }
                #expect(tess.welcome?.connection == welcome.connection, "the same connection: refreshed in band")
                #expect(asked.withLock { $0 } == 2)
                #expect(!log.all.contains { $0.state == .reconnecting })
            }

            // Long enough to connect on a saturated machine before it runs out.
            let ursula = client([node.url], .fixed(try await RunningNode.token(for: "ursula", validFor: .seconds(6))))
            let ursulaLog = StateLog(ursula)
            try await running(ursula) { ursula in
                try await ursula.connected()
                try await waitUntil(timeout: .seconds(30)) { ursula.state == .closed }
            }
            try await waitUntil { ursulaLog.all.last?.state == .closed }
            #expect(ursulaLog.all.last?.code == 4001)
        }
    }

    @Test("a provider that hands back the same cached token is asked once for the refresh, not spun; the connection ends at the expiry and comes back")
    func cachedTokenIsNotSpun() async throws {
        try await withNode { node in
            // Long enough to connect and refresh on a saturated machine.
            let cached = try await RunningNode.token(for: "cache", validFor: .seconds(8))
            // The provider is told `fresh` when the client needs a token other than the last:
            // the reconnect after the expiry. Before it: the connect and one refresh.
            let calls = Mutex<[Bool]>([])
            let tess = client([node.url], .provider { fresh in calls.withLock { $0.append(fresh) }; return cached })
            try await running(tess) { tess in
                try await tess.connected()
                try await waitUntil(timeout: .seconds(60)) { calls.withLock { $0.contains(true) } }
                let beforeTheEnd = calls.withLock { $0.prefix { !$0 }.count }
                #expect(beforeTheEnd == 2, "asked \(beforeTheEnd) times before the connection ended")
            }
        }
    }

    @Test("in a ServiceGroup the client ends with a graceful shutdown: the socket closes cleanly and run() returns, also while backing off")
    func gracefulShutdown() async throws {
        try await withNode { node in
            let alice = client([node.url], .fixed(try await node.token(for: "alice")))
            try await testGracefulShutdown { trigger in
                let run = Task { try await alice.run() }
                try await alice.connected()
                trigger.triggerGracefulShutdown()
                try await run.value
            }
            #expect(alice.state == .closed)
            try await waitUntil { node.node.connectionCount == 0 }

            // Nothing listens: the client is between attempts, asleep for up to a minute.
            var configuration = SwitchboardClientConfiguration(urls: ["ws://127.0.0.1:1/ws"], token: .fixed("x"))
            configuration.backoff = Backoff(base: .seconds(60), maximum: .seconds(60))
            let lost = SwitchboardClient(configuration: configuration)
            let states = StateLog(lost)
            try await testGracefulShutdown { trigger in
                let run = Task { try await lost.run() }
                try await waitUntil { states.all.contains { $0.state == .reconnecting && ($0.delay ?? .zero) > .seconds(1) } }
                trigger.triggerGracefulShutdown()
                try await run.value
            }
            #expect(lost.state == .closed)
        }
    }

    @Test("pushes nobody reads stop at pushBufferLimit: the rest are dropped, counted, and a resync says so")
    func boundedPushes() async throws {
        try await withNode { node in
            var configuration = SwitchboardClientConfiguration(urls: [node.url], token: .fixed(try await node.token(for: "idle-reader")))
            configuration.pushBufferLimit = 3
            let reader = SwitchboardClient(configuration: configuration)
            let sender = try await node.connect("sender")
            try await running(reader) { reader in
                try await reader.connected()
                for n in 1...10 {
                    sender.send(#"{"id":"\#(n)","send":{"to":"idle-reader","data":\#(n)}}"#)
                    _ = try await sender.receiveJSON()
                }
                try await waitUntil { reader.droppedPushes == 7 }
                var resyncs = reader.resyncs.makeAsyncIterator()
                #expect(await resyncs.next()?.contains("pushes were dropped") == true)
                var pushes = reader.pushes.makeAsyncIterator()
                var first: [Double] = []
                for _ in 1...3 { first.append(try #require(await pushes.next()).data.numberValue) }
                #expect(first == [1, 2, 3], "the oldest are kept, in order")
            }
            try await sender.close()
        }
    }

    @Test("a frame past the welcome's maxFrameBytes is refused frame_too_large unsent; the connection and other calls go on")
    func frameTooLarge() async throws {
        try await withNode(configure: { $0.maxFrameBytes = 1024 }) { node in
            let alice = client([node.url], .fixed(try await node.token(for: "alice")))
            let bob = try await node.connect("bob")
            try await running(alice) { alice in
                let welcome = try await alice.connected()
                #expect(welcome.limits?.maxFrameBytes == 1024 && welcome.limits?.callsInFlight == 32)
                let big = Google_Protobuf_Value(stringValue: String(repeating: "x", count: 2000))
                do {
                    _ = try await alice.send(to: "bob", data: big)
                    Issue.record("a frame past the limit was sent")
                } catch let error as SwitchboardClientError {
                    #expect(error.code == "frame_too_large")
                }
                let outcome = try await alice.send(to: "bob", data: .init(stringValue: "small"))
                #expect(outcome.delivered == 1)
                #expect(try await alice.connected().connection == welcome.connection, "still the first connection")
            }
            let push = try #require(try await bob.receiveJSON()["push"] as? [String: Any])
            #expect(push["data"] as? String == "small", "the large frame never reached the node")
            try await bob.close()
        }
    }

    @Test("wss:// with a private CA: the client trusts the roots its TLS configuration names")
    func privateCA() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        try await withNode(configure: {
            $0.tlsCertFile = certificates.serverCert
            $0.tlsKeyFile = certificates.serverKey
        }) { node in
            // A host name: TLS names the server it wants (SNI) by name, never by address.
            var configuration = SwitchboardClientConfiguration(urls: ["wss://localhost:\(node.port)/ws"], token: .fixed(try await node.token(for: "secure")))
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(certificates.ca)
            configuration.tls = tls
            let secure = SwitchboardClient(configuration: configuration)
            try await running(secure) { secure in
                let welcome = try await secure.connected()
                let pong = try await secure.ping()
                #expect(welcome.user == "secure" && pong == "node-1")
            }
        }
    }

    @Test("a 401 with a fixed token stops the client; a provider is asked for a fresh token")
    func authenticationRefused() async throws {
        try await withNode { node in
            let eve = client([node.url], .fixed("not-a-token"))
            let log = StateLog(eve)
            try await eve.run()  // returns: refused for good
            #expect(eve.state == .closed)
            try await waitUntil { log.all.last?.state == .closed }
            #expect(log.all.map(\.state) == [.connecting, .closed])
            #expect(log.all.last?.code == 401)
            do {
                try await eve.connected()
                Issue.record("a refused client connected")
            } catch let error as SwitchboardClientError {
                #expect(error.code == "unauthenticated")
            }

            let asked = Mutex<[Bool]>([])
            let carol = client([node.url], .provider { fresh in
                let count = asked.withLock { $0.append(fresh); return $0.count }
                return count == 1 ? "forged" : try await RunningNode.token(for: "carol")
            })
            let welcome = try await running(carol) { carol in try await carol.connected() }
            #expect(welcome.user == "carol")
            #expect(asked.withLock { $0 } == [false, true])
        }
    }

    @Test("a call in flight when the node dies fails with disconnected, never resent; the heartbeat finds the dead node")
    func deadNode() async throws {
        try await withNodeProcesses(2, redis: try await RedisServer.shared()) { nodes in
            let alice = client(nodes.map(\.url), .fixed(try await RunningNode.token(for: "alice")), heartbeat: .seconds(1))
            try await running(alice) { alice in
                #expect(try await alice.connected().node == nodes[0].nodeID)
                try nodes[0].suspend()
                defer { nodes[0].resume() }
                await #expect {
                    try await alice.ping(timeout: .seconds(60))
                } throws: { error in
                    (error as? SwitchboardClientError)?.code == "disconnected"
                }
                try await waitUntil { alice.welcome?.node == nodes[1].nodeID }
            }
        }
    }
}
