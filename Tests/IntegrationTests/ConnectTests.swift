import Auth
import Foundation
@testable import Node
import Testing
import NodeTestSupport
import TestSupport

@Suite("Connecting and authenticating", .timeLimit(.minutes(2)))
struct ConnectTests {
    @Test("a full node refuses new clients with 503 busy, even in a burst, and keeps the ones it holds")
    func connectionCap() async throws {
        try await withNode(configure: { $0.maxConnections = 4 }) { node in
            // Ten at once: admission must not let a burst past the cap.
            let attempts = try await withThrowingTaskGroup(of: TestWebSocket?.self) { group in
                for n in 0..<10 {
                    let token = try await node.token(for: "cap-\(n)")
                    group.addTask { try? await TestWebSocket.connect(url: node.url, token: token) }
                }
                return try await group.reduce(into: [TestWebSocket?]()) { $0.append($1) }
            }
            let held = attempts.compactMap { $0 }
            #expect(held.count == 4)
            #expect(node.node.connectionCount == 4)
            let response = try await HTTPProbe.upgrade(port: node.port, query: "?token=\(try await node.token(for: "cap-late"))")
            #expect(response.status == 503)
            let error = try json(response.body)["error"] as? [String: String]
            #expect(error?["code"] == "busy")
            #expect(error?["message"]?.contains("maximum of 4 connections") == true)
            // A slot comes back when a socket closes.
            try await held[0].close()
            try await waitUntil { node.node.admission.slots.inUse == 3 }
            let again = try await TestWebSocket.connect(url: node.url, token: try await node.token(for: "cap-again"))
            for client in held.dropFirst() + [again] { try await client.close() }
        }
    }

    @Test("no token: 401 and no socket")
    func missingToken() async throws {
        try await withNode { node in
            let response = try await HTTPProbe.upgrade(port: node.port)
            #expect(response.status == 401)
            #expect(try json(response.body)["error"] as? [String: String] == [
                "code": "unauthenticated", "message": "no token: send 'Authorization: Bearer <token>' or '?token=<token>'",
            ])
        }
    }

    @Test("a token signed with another secret: 401")
    func wrongSecret() async throws {
        try await withNode { node in
            let forged = try await TokenAuthenticator(secret: "another-secret-another-secret-another").issue(user: "mallory", validFor: .seconds(60))
            let response = try await HTTPProbe.upgrade(port: node.port, headers: [("Authorization", "Bearer \(forged)")])
            #expect(response.status == 401)
            #expect(response.body.contains("\"unauthenticated\""))
            await #expect(throws: (any Error).self) { _ = try await TestWebSocket.connect(url: node.url, token: forged) }
        }
    }

    @Test("garbage in ?token=: 401")
    func malformedToken() async throws {
        try await withNode { node in
            let response = try await HTTPProbe.upgrade(port: node.port, query: "?token=not-a-jwt")
            #expect(response.status == 401)
        }
    }

    @Test("an expired token: 401 saying expired")
    func expiredToken() async throws {
        try await withNode { node in
            let expired = try await node.token(for: "alice", validFor: .seconds(-60))
            let response = try await HTTPProbe.upgrade(port: node.port, query: "?token=\(expired)")
            #expect(response.status == 401)
            #expect(response.body.contains("expired"))
        }
    }

    @Test("a valid token in ?token= is accepted, and the JSON subprotocol is echoed")
    func queryToken() async throws {
        try await withNode { node in
            let token = try await node.token(for: "alice")
            let client = try await TestWebSocket.connect(url: node.url + "?token=\(token)", token: nil)
            client.send(#"{"id":"1","ping":{}}"#)
            let reply = try await client.receiveJSON()
            #expect(reply["id"] as? String == "1")
            #expect((reply["ok"] as? [String: Any])?["node"] as? String == "node-1")
            try await client.close()
        }
    }

    @Test("GET /ws without an upgrade: 426")
    func plainGet() async throws {
        try await withNode { node in
            let token = try await node.token(for: "alice")
            let response = try await HTTPProbe.get(port: node.port, path: "/ws?token=\(token)")
            #expect(response.status == 426)
        }
    }
}
