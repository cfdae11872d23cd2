import Auth
@testable import Bench
import Foundation
import GRPCCore
import NIOCore
import SwiftProtobuf
import SwitchboardProtocol
import Synchronization
import Testing
import NodeTestSupport
import TestSupport

/// A push to the wrong user is the worst bug a gateway can have. Thousands of users whose
/// ids differ only by a suffix, a prefix, case, a look-alike or a Redis-meaningful
/// character, on three nodes, connecting, reconnecting (resuming their inbox), and moving
/// off a draining node, while sends, pushes, durable pushes and broadcasts flow: every
/// frame each socket receives must be for the user its token names.
@Suite("Delivery isolation", .tags(.redis, .slow), .timeLimit(.minutes(5)))
struct DeliveryIsolationTests {
    enum Backplane: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case redis, redisCluster
        var testDescription: String { self == .redis ? "one Redis" : "a Redis Cluster" }
    }

    @Test("every frame reaches only the user its token names, among confusable ids, through churn and a drain", arguments: Backplane.allCases)
    func isolation(_ backplane: Backplane) async throws {
        switch backplane {
        case .redis:
            try await withCluster(nodes: 3) { try await Self.exercise($0) }
        case .redisCluster:
            try await withCluster(nodes: 3, redisCluster: try await TestRedisCluster.shared()) { try await Self.exercise($0) }
        }
    }

    /// Ids that differ from each other as little as ids can: by an appended or prepended
    /// character, case, a compatibility or cross-script look-alike, and characters that
    /// mean something to Redis (key separators, hash tags and their closing brace, glob
    /// patterns). (Spaces at either end are no user id: the rule refuses them.)
    /// Numbers share prefixes too (u1, u10, u100).
    static func confusableUsers(bases: Int) -> [String] {
        let forms: [@Sendable (Int) -> String] = [
            { "u\($0)" }, { "u\($0)x" }, { "xu\($0)" }, { "U\($0)" }, { "u\($0)}" }, { "u\($0):" }, { "u\($0)*" }, { "u\($0)?" },
            { "{u\($0)}" }, { "{u\($0)}x" }, { "jos\u{E9}\($0)" }, { "jose\($0)" }, { "\u{FB01}\($0)" }, { "fi\($0)" },
            { "\u{FF55}\($0)" }, { "\u{0430}\($0)" }, { "a\($0)" },
        ]
        return (0..<bases).flatMap { base in forms.map { $0(base) } }
    }

    private static let authorized: Metadata = ["authorization": "Bearer \(RunningNode.pushSecret)"]

    static func exercise(_ cluster: TestCluster) async throws {
        let users = confusableUsers(bases: 100)  // 1,700 users
        let books = Books(users: users)
        let endpoints = try cluster.nodes.map { try BenchEndpoint(url: $0.url) }
        let fleet = Fleet(users: users, books: books)
        let authenticator = try await TokenAuthenticator(secret: RunningNode.secret)

        // Everyone connects, round-robin over the nodes, JSON and protobuf alternating.
        try await fleet.connect(Array(users.indices), authenticator: authenticator) { endpoints[$0 % 3] }

        // Traffic while everyone is connected, then again while a tenth reconnect elsewhere
        // (resuming their inbox from its start) and node 3 drains and its clients move.
        try await traffic(cluster, fleet: fleet, users: users, rounds: 300, phase: "before")
        async let more: Void = traffic(cluster, fleet: fleet, users: users, rounds: 300, phase: "during", onlyNodes: [0, 1])
        let movers = stride(from: 0, to: users.count, by: 10).filter { $0 % 3 != 2 }
        try await fleet.reconnect(movers, authenticator: authenticator) { BenchEndpoint.resuming(endpoints[($0 + 1) % 2]) }
        fleet.expectClosing(users.indices.filter { $0 % 3 == 2 })
        try await cluster.nodes[2].stop()
        try await fleet.reconnect(users.indices.filter { $0 % 3 == 2 }, authenticator: authenticator) {
            BenchEndpoint.resuming(endpoints[$0 % 2])
        }
        try await more
        try await traffic(cluster, fleet: fleet, users: users, rounds: 100, phase: "after", onlyNodes: [0, 1])

        // Everything in flight has arrived once the count of frames stops moving.
        var last = -1
        while books.frames != last {
            last = books.frames
            try await Task.sleep(for: .milliseconds(500))
        }
        await fleet.closeAll()

        let counts = books.counts
        #expect(books.misdelivered == 0, "frames for another user: \(books.firstMisdelivery ?? "")")
        #expect(books.unreadable == 0, "unreadable frames: \(books.firstUnreadable ?? "")")
        // Not vacuous: every kind of delivery happened, to many users.
        #expect(counts.sends > 500, "\(counts)")
        #expect(counts.pushes > 300, "\(counts)")
        #expect(counts.durable > 300, "\(counts)")
        #expect(counts.replayed > 0, "durable pushes replayed on resume: \(counts)")
        #expect(counts.broadcasts >= users.count, "\(counts)")
        #expect(counts.usersReached > users.count / 2, "\(counts)")
        // A send to an id in another normal form is refused, never delivered to the NFC user.
        #expect(counts.refusedNFD > 0, "\(counts)")
    }

    /// `rounds` of: a client send to a confusable sibling, a backend push and a durable
    /// push to random users through random nodes, every 100 rounds a broadcast, and a send
    /// to an NFD id (refused). Durable pushes carry `phase`: a resumed connection that
    /// gets one from before it reconnected got it from the replay.
    static func traffic(
        _ cluster: TestCluster, fleet: Fleet, users: [String], rounds: Int, phase: String, onlyNodes: [Int] = [0, 1, 2]
    ) async throws {
        var random = SystemRandomNumberGenerator()
        let gateway = cluster.nodes[onlyNodes.randomElement(using: &random)!].grpcPort
        try await withGRPCClient(port: gateway) { client in
            let api = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
            var random = SystemRandomNumberGenerator()
            for round in 0..<rounds {
                let sender = Int.random(in: 0..<users.count, using: &random)
                // A sibling: the same base number in another form, so ids are as close as they get.
                let forms = 17
                let sibling = (sender / forms) * forms + Int.random(in: 0..<forms, using: &random)
                fleet.send(from: sender, to: users[sibling])
                if round % 50 == 0 { fleet.send(from: sender, to: "jose\u{301}\(sender / forms)", expectRefusal: true) }
                for durable in [false, true] {
                    var request = Switchboard_Gateway_V1_PushToUserRequest()
                    let target = users.randomElement(using: &random)!
                    request.user = target
                    request.push.kind = durable ? "note" : "alert"
                    request.push.data = .init(structValue: ["to": .init(stringValue: target), "phase": .init(stringValue: phase)])
                    request.durable = durable
                    _ = try await api.pushToUser(request, metadata: authorized)
                }
                if round % 100 == 0 {
                    var request = Switchboard_Gateway_V1_BroadcastRequest()
                    request.push.kind = "news"
                    request.push.data = .init(structValue: ["to": .init(stringValue: "*")])
                    _ = try await api.broadcast(request, metadata: authorized)
                }
            }
        }
    }
}

extension BenchEndpoint {
    /// The node's URL asking for the whole inbox on connect (`?since=0`).
    static func resuming(_ endpoint: BenchEndpoint) -> BenchEndpoint {
        (try? BenchEndpoint(url: "ws://\(endpoint.host):\(endpoint.port)\(endpoint.path)?since=0")) ?? endpoint
    }
}

/// The clients: one socket per user at a time, each frame checked against its user.
final class Fleet: Sendable {
    let users: [String]
    let books: Books
    private let sockets: Mutex<[Int: (socket: BenchSocket, tag: SocketTag)]> = Mutex([:])

    init(users: [String], books: Books) {
        self.users = users
        self.books = books
    }

    func format(_ client: Int) -> BenchFormat { client % 2 == 0 ? .json : .protobuf }

    func connect(
        _ clients: [Int], authenticator: TokenAuthenticator, resumed: Bool = false, to endpoint: @escaping @Sendable (Int) -> BenchEndpoint
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (offset, client) in clients.enumerated() {
                if offset >= 64 { try await group.next() }
                let token = try await authenticator.issue(user: users[client], validFor: .seconds(3600))
                let books = self.books
                let format = format(client)
                let tag = SocketTag(resumed: resumed)
                group.addTask {
                    let socket = try await BenchSocket.connect(to: endpoint(client), token: token, format: format) { event in
                        books.check(event, by: client, tag: tag)
                    }
                    self.sockets.withLock { $0[client] = (socket, tag) }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Closes each client's socket (its frames stay checked until the close), then connects it again.
    func reconnect(_ clients: [Int], authenticator: TokenAuthenticator, to endpoint: @escaping @Sendable (Int) -> BenchEndpoint) async throws {
        expectClosing(clients)
        let old = sockets.withLock { sockets in clients.compactMap { sockets[$0]?.socket } }
        await withTaskGroup(of: Void.self) { group in
            for socket in old { group.addTask { await socket.close() } }
        }
        try await connect(clients, authenticator: authenticator, resumed: true, to: endpoint)
    }

    /// These clients' sockets are about to close on purpose.
    func expectClosing(_ clients: [Int]) {
        sockets.withLock { sockets in
            for client in clients { sockets[client]?.tag.closing.store(true, ordering: .relaxed) }
        }
    }

    func send(from client: Int, to user: String, expectRefusal: Bool = false) {
        guard let socket = sockets.withLock({ $0[client]?.socket }) else { return }
        let id = expectRefusal ? "nfd" : ""
        switch format(client) {
        case .json:
            let to = String(data: try! JSONSerialization.data(withJSONObject: user, options: .fragmentsAllowed), encoding: .utf8)!
            socket.send(text: #"{"id":"\#(id)","send":{"to":\#(to),"data":{"to":\#(to)}}}"#)
        case .protobuf:
            var frame = Switchboard_V1_ClientFrame()
            frame.id = id
            frame.send.to = user
            frame.send.data = .init(structValue: ["to": .init(stringValue: user)])
            socket.send(binary: ByteBuffer(bytes: try! frame.serializedBytes() as [UInt8]))
        }
    }

    func closeAll() async {
        expectClosing(Array(users.indices))
        let all = sockets.withLock { $0.values.map(\.socket) }
        await withTaskGroup(of: Void.self) { group in
            for socket in all { group.addTask { await socket.close() } }
        }
    }
}

/// One socket's expectations: whether it resumed (`?since=0`, after the first phase), and
/// whether the test is closing it (a reconnect, the drain, the end).
final class SocketTag: Sendable {
    let resumed: Bool
    let closing = Atomic<Bool>(false)
    init(resumed: Bool) { self.resumed = resumed }
}

/// What every socket received, checked as it arrives (on the socket's event loop).
final class Books: Sendable {
    struct Counts: CustomStringConvertible {
        var sends = 0, pushes = 0, durable = 0, replayed = 0, broadcasts = 0, refusedNFD = 0, usersReached = 0
        var description: String {
            "sends \(sends), pushes \(pushes), durable \(durable) (replayed \(replayed)), broadcast copies \(broadcasts), "
                + "NFD sends refused \(refusedNFD), users reached \(usersReached)"
        }
    }

    let users: [String]
    private let state = Mutex<(counts: Counts, reached: Set<Int>, frames: Int)>((Counts(), [], 0))
    private let faults = Mutex<(misdelivered: Int, unreadable: Int, firstMisdelivery: String?, firstUnreadable: String?)>((0, 0, nil, nil))

    init(users: [String]) {
        self.users = users
    }

    var frames: Int { state.withLock { $0.frames } }
    var counts: Counts { state.withLock { var counts = $0.counts; counts.usersReached = $0.reached.count; return counts } }
    var misdelivered: Int { faults.withLock { $0.misdelivered } }
    var unreadable: Int { faults.withLock { $0.unreadable } }
    var firstMisdelivery: String? { faults.withLock { $0.firstMisdelivery } }
    var firstUnreadable: String? { faults.withLock { $0.firstUnreadable } }

    /// What a frame is, read the way a client reads it.
    private enum Frame {
        case push(to: String, kind: String, from: String, phase: String)
        case answer(id: String, error: String?)
        case other(String)
    }

    func check(_ event: BenchSocket.Event, by client: Int, tag: SocketTag) {
        let frame: Frame
        switch event {
        case .closed(let code):
            // Closes are the test's doing (a reconnect, the drain: 1012) or the end.
            if !tag.closing.load(ordering: .relaxed) { unreadable("client \(client) closed unexpectedly (\(code.map(String.init) ?? "no code"))") }
            return
        case .text(let buffer):
            frame = Self.read(json: String(buffer: buffer))
        case .binary(let buffer):
            frame = Self.read(protobuf: buffer)
        }
        let user = users[client]
        switch frame {
        case .push(let to, let kind, let from, let phase):
            guard to == user || (to == "*" && kind == "news") else {
                faults.withLock {
                    $0.misdelivered += 1
                    $0.firstMisdelivery = $0.firstMisdelivery ?? "a \(kind) push for \(debug(to)) from \(debug(from)) reached \(debug(user))"
                }
                return
            }
            state.withLock { state in
                state.frames += 1
                state.reached.insert(client)
                switch kind {
                case "message": state.counts.sends += 1
                case "alert": state.counts.pushes += 1
                case "note":
                    state.counts.durable += 1
                    if tag.resumed && phase == "before" { state.counts.replayed += 1 }
                default: state.counts.broadcasts += 1
                }
            }
        case .answer(let id, let error):
            state.withLock { state in
                state.frames += 1
                if id == "nfd", error == "invalid_argument" { state.counts.refusedNFD += 1 }
            }
            // Other answers (a send to a sibling who is reconnecting: offline) are not deliveries.
        case .other(let text):
            unreadable("\(debug(user)) got \(text.prefix(200))")
        }
    }

    private func unreadable(_ what: String) {
        faults.withLock {
            $0.unreadable += 1
            $0.firstUnreadable = $0.firstUnreadable ?? what
        }
    }

    private func debug(_ user: String) -> String {
        "'\(user.unicodeScalars.map { $0.isASCII ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined())'"
    }

    private static func read(json text: String) -> Frame {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return .other(text) }
        if let push = object["push"] as? [String: Any] {
            guard let data = push["data"] as? [String: Any], let to = data["to"] as? String else { return .other(text) }
            return .push(to: to, kind: push["kind"] as? String ?? "", from: push["from"] as? String ?? "", phase: data["phase"] as? String ?? "")
        }
        if object["ok"] != nil || object["error"] != nil {
            return .answer(id: object["id"] as? String ?? "", error: (object["error"] as? [String: Any])?["code"] as? String)
        }
        return .other(text)
    }

    private static func read(protobuf buffer: ByteBuffer) -> Frame {
        guard let frame = try? Switchboard_V1_ServerFrame(serializedBytes: Array(buffer.readableBytesView)) else { return .other("undecodable protobuf") }
        switch frame.body {
        case .push(let push):
            guard case .structValue(let data)? = push.data.kind, case .stringValue(let to)? = data.fields["to"]?.kind else {
                return .other("\(push)")
            }
            let phase: String = if case .stringValue(let phase)? = data.fields["phase"]?.kind { phase } else { "" }
            return .push(to: to, kind: push.kind, from: push.from, phase: phase)
        case .ok, .okPayload:
            return .answer(id: frame.id, error: nil)
        case .error(let error):
            return .answer(id: frame.id, error: error.code)
        default:
            return .other("\(frame)")
        }
    }
}
