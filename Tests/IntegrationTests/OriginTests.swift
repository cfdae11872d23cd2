import Essentials
import Node
import Testing
import NodeTestSupport
import TestSupport

/// Cross-site WebSocket hijacking: a page from another site must not open a socket with
/// the user's token (docs/protocol.md § Connecting).
@Suite("Browser origins", .timeLimit(.minutes(2)))
struct OriginTests {
    private static func upgrade(_ node: RunningNode, origin: String?) async throws -> HTTPProbe.Response {
        let token = try await RunningNode.token(for: "olive")
        return try await HTTPProbe.upgrade(
            port: node.port, headers: [("Authorization", "Bearer \(token)")] + (origin.map { [("Origin", $0)] } ?? [])
        )
    }

    @Test("by default only pages of the node's own host and clients without an Origin connect; others get 403 origin_not_allowed")
    func sameOriginByDefault() async throws {
        try await withNode { node in
            #expect(try await Self.upgrade(node, origin: nil).status == 101, "an app or a server: no Origin")
            #expect(try await Self.upgrade(node, origin: "http://127.0.0.1").status == 101, "the node's own host (Host 127.0.0.1)")
            #expect(try await Self.upgrade(node, origin: "http://127.0.0.1:9999").status == 101, "any port of it")
            #expect(try await Self.upgrade(node, origin: "http://127.0.0.1.evil.example").status == 403, "not a prefix match")
            let refused = try await Self.upgrade(node, origin: "https://evil.example")
            #expect(refused.status == 403)
            #expect(refused.body.contains("origin_not_allowed") && refused.body.contains("https://evil.example"))
            #expect(try await Self.upgrade(node, origin: "null").status == 403, "a sandboxed page")
            let metrics = try await HTTPProbe.get(port: node.port, path: "/metrics").body
            #expect(metrics.contains(#"switchboard_limit_hits_total{node="node-1",limit="origin"} 3"#))
        }
    }

    @Test("allowed-origins lets listed sites in (case-insensitively) and * lets any; --dev lets any")
    func allowList() async throws {
        try await withNode(configure: { $0.allowedOrigins = ["https://App.example.com"] }) { (node: RunningNode) async throws in
            #expect(try await Self.upgrade(node, origin: "https://app.example.com").status == 101)
            #expect(try await Self.upgrade(node, origin: "https://other.example.com").status == 403)
        }
        try await withNode(configure: { $0.allowedOrigins = ["*"] }) { (node: RunningNode) async throws in
            #expect(try await Self.upgrade(node, origin: "https://other.example.com").status == 101)
        }
        try await withNode(configure: { $0.dev = true }) { (node: RunningNode) async throws in
            #expect(try await Self.upgrade(node, origin: "https://anywhere.example").status == 101)
        }
    }

    @Test("an allowed origin that is not scheme://host is refused at start, naming the key")
    func badSetting() throws {
        var configuration = NodeConfiguration(nodeID: "n", jwtSecret: String(repeating: "j", count: 32), pushSecret: String(repeating: "p", count: 16))
        configuration.allowedOrigins = ["app.example.com"]
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}
