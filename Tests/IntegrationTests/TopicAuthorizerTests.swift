import GRPCCore
import GRPCSupport
import Node
import Routing
import Synchronization
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

/// Namespaces that leave subscribing and publishing to a backend: the reference authorizer
/// of `switchboard backends` over real gRPC, and a scripted one that answers, refuses or
/// hangs — a refusal, a deadline or a backend that is down never lets a client in.
@Suite("Topic authorizer", .timeLimit(.minutes(3)))
struct TopicAuthorizerTests {
    static let namespaces = try! TopicNamespaces(parsing: "dm:subscribe=backend,publish=backend;room:subscribe=any,publish=backend")

    private func answer(_ socket: TestWebSocket, _ id: String, _ body: String) async throws -> [String: Any] {
        socket.send(#"{"id":"\#(id)",\#(body)}"#)
        let frame = try await socket.receiveJSON()
        #expect(frame["id"] as? String == id, "expected the answer to \(id), got \(frame)")
        return frame
    }

    private func error(_ answer: [String: Any]) -> (code: String?, message: String) {
        let error = answer["error"] as? [String: Any]
        return (error?["code"] as? String, error?["message"] as? String ?? "")
    }

    @Test("the reference authorizer opens dm:alice+bob to alice and bob only, for subscribing and publishing")
    func referenceAuthorizer() async throws {
        try await withNodeAndBackends(configure: {
            $0.topicNamespaces = Self.namespaces
            $0.topicAuthorizer = $0.backends["chat"]
            // The test process runs many suites on two cores: an answer may take more than 1 s.
            $0.topicAuthorizerTimeout = testDeadline
        }) { system in
            let node = system.node
            let alice = try await node.connect("alice")
            let bob = try await node.connect("bob")
            let carol = try await node.connect("carol")
            let ok = try await answer(alice, "s1", #""subscribe":{"topic":"dm:alice+bob"}"#)
            #expect((ok["ok"] as? [String: Any])?["topic"] as? String == "dm:alice+bob", "\(ok)")

            let refused = error(try await answer(carol, "s2", #""subscribe":{"topic":"dm:alice+bob"}"#))
            #expect(refused.code == "permission_denied")
            #expect(refused.message.contains("only the users the topic names"), "the authorizer's reason reaches the client: \(refused.message)")
            let unnamed = error(try await answer(alice, "s3", #""subscribe":{"topic":"dm:alice"}"#))
            #expect(unnamed.code == "permission_denied")
            #expect(unnamed.message.contains("dm:alice+bob"), "\(unnamed.message)")

            let published = try await answer(bob, "p1", #""publish":{"topic":"dm:alice+bob","data":{"text":"hi"}}"#)
            #expect((published["ok"] as? [String: Any])?["delivered"] as? Int == 1, "\(published)")
            let push = try #require(try await alice.receiveJSON()["push"] as? [String: Any])
            #expect(push["topic"] as? String == "dm:alice+bob")
            #expect(push["from"] as? String == "bob")
            #expect(error(try await answer(carol, "p2", #""publish":{"topic":"dm:alice+bob","data":{"text":"hi"}}"#)).code == "permission_denied")

            // A namespace may leave only publishing to the backend: anyone subscribes.
            #expect(try await answer(carol, "s4", #""subscribe":{"topic":"room:1"}"#)["ok"] != nil)
            #expect(error(try await answer(carol, "p3", #""publish":{"topic":"room:1","data":{}}"#)).code == "permission_denied")
            #expect(try await node.metricValue("switchboard_backend_calls_total", labels: ["backend": "topic-authorizer", "outcome": "ok"]) >= 5)
            for socket in [alice, bob, carol] { try await socket.close() }
        }
    }

    @Test("an answer is reused for its TTL: a resubscribe and repeated publishes ask once, and a cached answer holds while the authorizer is down")
    func answersAreCached() async throws {
        let authorizer = ScriptedAuthorizer()
        try await withAuthorizer(authorizer, configure: { $0.topicAuthorizationTTL = .seconds(3600) }) { node, stopAuthorizer in
            let alice = try await node.connect("alice")
            #expect(try await answer(alice, "s1", #""subscribe":{"topic":"dm:x"}"#)["ok"] != nil)
            #expect(try await answer(alice, "u1", #""unsubscribe":{"topic":"dm:x"}"#)["ok"] != nil)
            #expect(try await answer(alice, "s2", #""subscribe":{"topic":"dm:x"}"#)["ok"] != nil)
            for n in 0..<5 {
                // Echo is on: the push to alice herself comes with the answer, in either order.
                alice.send(#"{"id":"p\#(n)","publish":{"topic":"dm:x","data":{"n":\#(n)}}}"#)
                let frames = [try await alice.receiveJSON(), try await alice.receiveJSON()]
                #expect(frames.contains { $0["id"] as? String == "p\(n)" && $0["ok"] != nil }, "\(frames)")
                #expect(frames.contains { ($0["push"] as? [String: Any])?["topic"] as? String == "dm:x" }, "\(frames)")
            }
            #expect(authorizer.calls == [.subscribe: 1, .publish: 1], "\(authorizer.calls)")
            // Another user is asked about on their own.
            let bob = try await node.connect("bob")
            #expect(try await answer(bob, "s3", #""subscribe":{"topic":"dm:x"}"#)["ok"] != nil)
            #expect(authorizer.calls[.subscribe] == 2)

            try await stopAuthorizer()
            let held = try await answer(bob, "p9", #""publish":{"topic":"dm:x","data":{}}"#)
            #expect(held["ok"] == nil, "bob was never answered for publishing: \(held)")
            #expect(error(held).code == "unavailable")
            #expect(try await answer(alice, "u5", #""unsubscribe":{"topic":"dm:x"}"#)["ok"] != nil)
            let cached = try await answer(alice, "s5", #""subscribe":{"topic":"dm:x"}"#)
            #expect(cached["ok"] != nil, "the cached answer holds while the authorizer is down: \(cached)")
            let uncached = error(try await answer(alice, "s4", #""subscribe":{"topic":"dm:y"}"#))
            #expect(uncached.code == "unavailable", "no answer is never a yes: \(uncached)")
            for socket in [alice, bob] { try await socket.close() }
        }
    }

    @Test("with a TTL of 0 every subscribe asks, and a denial is answered permission_denied with the backend's reason")
    func noCache() async throws {
        let authorizer = ScriptedAuthorizer()
        try await withAuthorizer(authorizer, configure: { $0.topicAuthorizationTTL = .zero }) { node, _ in
            let alice = try await node.connect("alice")
            for n in 0..<3 {
                #expect(try await answer(alice, "s\(n)", #""subscribe":{"topic":"dm:x"}"#)["ok"] != nil)
                #expect(try await answer(alice, "u\(n)", #""unsubscribe":{"topic":"dm:x"}"#)["ok"] != nil)
            }
            #expect(try await answer(alice, "p", #""publish":{"topic":"dm:x","data":{}}"#)["ok"] != nil)
            #expect(authorizer.calls == [.subscribe: 3, .publish: 1], "\(authorizer.calls)")
            authorizer.mode = .deny("members only")
            let denied = error(try await answer(alice, "s9", #""subscribe":{"topic":"dm:x"}"#))
            #expect(denied.code == "permission_denied")
            #expect(denied.message.contains("members only"))
            try await alice.close()
        }
    }

    @Test("an authorizer that does not answer within its deadline, or is not running, refuses with unavailable; other clients are unaffected")
    func noAnswerRefuses() async throws {
        let authorizer = ScriptedAuthorizer()
        authorizer.mode = .hang
        try await withAuthorizer(authorizer, configure: { $0.topicAuthorizerTimeout = .milliseconds(300) }) { node, stopAuthorizer in
            let alice = try await node.connect("alice")
            let bob = try await node.connect("bob")
            let hung = error(try await answer(alice, "s1", #""subscribe":{"topic":"dm:x"}"#))
            #expect(hung.code == "unavailable", "\(hung)")
            // A publish waiting on the authorizer holds only its own connection.
            alice.send(#"{"id":"p1","publish":{"topic":"dm:x","data":{}}}"#)
            #expect(try await answer(bob, "ping", #""ping":{}"#)["ok"] != nil)
            #expect(error(try await alice.receiveJSON()).code == "unavailable")
            #expect(try await node.metricValue("switchboard_backend_calls_total", labels: ["backend": "topic-authorizer", "outcome": "timeout"]) >= 1)

            try await stopAuthorizer()
            // Down: refused (at once, or by the open circuit), never allowed.
            for n in 0..<8 {
                #expect(error(try await answer(bob, "s\(n)", #""subscribe":{"topic":"dm:y"}"#)).code == "unavailable")
            }
            for socket in [alice, bob] { try await socket.close() }
        }
    }

    /// A node whose authorizer is `authorizer`, served on a loopback port; the body may stop it.
    private func withAuthorizer(
        _ authorizer: ScriptedAuthorizer, configure: @escaping (inout NodeConfiguration) -> Void,
        _ body: (RunningNode, _ stopAuthorizer: @Sendable () async throws -> Void) async throws -> Void
    ) async throws {
        let (bound, continuation) = AsyncStream.makeStream(of: Int.self)
        let server = GRPCServerService(host: "127.0.0.1", port: 0, service: authorizer, shutdownGrace: .milliseconds(100)) { continuation.yield($0) }
        let serverTask = Task { try await server.run() }
        defer { serverTask.cancel() }
        var ports = bound.makeAsyncIterator()
        let port = try #require(await ports.next())
        try await withNode(configure: {
            $0.topicNamespaces = Self.namespaces
            $0.topicAuthorizer = GRPCEndpoint(host: "127.0.0.1", port: port)
            // The test process runs many suites on two cores: an answer may take more than 1 s.
            $0.topicAuthorizerTimeout = testDeadline
            configure(&$0)
        }) { node in
            try await body(node) {
                serverTask.cancel()
                _ = await serverTask.result
            }
        }
    }
}

/// An authorizer that allows, refuses or never answers, as the test says, and counts its calls.
final class ScriptedAuthorizer: Switchboard_Topics_V1_TopicAuthorizer.ServiceProtocol, Sendable {
    enum Mode: Sendable {
        case allow
        case deny(String)
        case hang
    }

    private struct State {
        var mode = Mode.allow
        var calls: [Switchboard_Topics_V1_TopicAction: Int] = [:]
    }

    private let state = Mutex(State())

    var mode: Mode {
        get { state.withLock { $0.mode } }
        set { state.withLock { $0.mode = newValue } }
    }

    var calls: [Switchboard_Topics_V1_TopicAction: Int] { state.withLock { $0.calls } }

    func authorize(
        request: ServerRequest<Switchboard_Topics_V1_AuthorizeRequest>, context: ServerContext
    ) async throws -> ServerResponse<Switchboard_Topics_V1_AuthorizeResponse> {
        #expect(Array(request.metadata[stringValues: "x-switchboard-user"]) == [request.message.user])
        let mode = state.withLock { state in
            state.calls[request.message.action, default: 0] += 1
            return state.mode
        }
        var response = Switchboard_Topics_V1_AuthorizeResponse()
        switch mode {
        case .allow: response.allowed = true
        case .deny(let reason): response.reason = reason
        case .hang: try await Task.sleep(for: .seconds(3600))
        }
        return ServerResponse(message: response)
    }
}
