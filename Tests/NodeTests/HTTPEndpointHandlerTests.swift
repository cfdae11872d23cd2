import SwitchboardProtocol
import Auth
import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import Node
import Testing
import NodeTestSupport
import TestSupport

/// The client port's plain HTTP answers on `NIOAsyncTestingChannel`: health, readiness,
/// metrics, unknown paths, and why a `/ws` request was not upgraded.
@Suite("HTTP endpoints of the client port")
struct HTTPEndpointHandlerTests {
    struct Response {
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let body: String
        var code: String? {
            ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]).flatMap { ($0["error"] as? [String: Any])?["code"] as? String }
        }
    }

    private func channel(_ services: SessionServices, handshake: Handshake = Handshake()) async throws -> NIOAsyncTestingChannel {
        let channel = NIOAsyncTestingChannel()
        try await channel.pipeline.addHandler(HTTPEndpointHandler(testEndpoints(services), handshake: handshake))
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9))
        return channel
    }

    private func get(_ path: String, on channel: NIOAsyncTestingChannel, headers: [(String, String)] = []) async throws -> Response {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        try await channel.writeInbound(HTTPServerRequestPart.head(head))
        try await channel.writeInbound(HTTPServerRequestPart.end(nil))
        guard case .head(let responseHead) = try await channel.waitForOutboundWrite(as: HTTPServerResponsePart.self),
              case .body(.byteBuffer(let body)) = try await channel.waitForOutboundWrite(as: HTTPServerResponsePart.self),
              case .end = try await channel.waitForOutboundWrite(as: HTTPServerResponsePart.self)
        else { throw TestFailure("not a head, a body and an end") }
        return Response(status: responseHead.status, headers: responseHead.headers, body: String(buffer: body))
    }

    @Test("/healthz is 200; /readyz is 200, then 503 once the node drains; /metrics serves the exposition; other paths are 404 JSON")
    func plainEndpoints() async throws {
        let services = try await makeTestServices()
        let channel = try await channel(services)
        #expect(try await get("/healthz", on: channel).status == .ok)
        #expect(try await get("/readyz", on: channel).status == .ok)
        let metrics = try await get("/metrics", on: channel)
        #expect(metrics.body.contains(#"switchboard_ready{node="unit"} 1.0"#))
        let missing = try await get("/nowhere", on: channel)
        #expect(missing.status == .notFound)
        #expect(missing.code == "not_found")

        _ = services.registry.startDraining()
        let draining = try await get("/readyz", on: channel)
        #expect(draining.status == .serviceUnavailable)
        #expect(draining.body == "draining\n")
        #expect(try await get("/ws", on: channel).code == "draining")
        #expect(channel.isActive, "a keep-alive client keeps its connection")
    }

    @Test("the demo and its token minting exist only on a --dev node; the dashboard and the assets are always served")
    func webAssets() async throws {
        let plain = try await channel(try await makeTestServices())
        let hidden = try await get("/demo", on: plain)
        #expect(hidden.status == .notFound)
        #expect(hidden.body.contains("--dev"))
        #expect(try await get("/demo/token?user=alice", on: plain).status == .notFound)
        let dashboard = try await get("/dashboard", on: plain)
        #expect(dashboard.status == .ok)
        #expect(dashboard.headers.first(name: "content-type") == "text/html; charset=utf-8")
        #expect(dashboard.body.contains("/assets/dashboard.js"))
        let library = try await get("/assets/switchboard.js", on: plain)
        #expect(library.headers.first(name: "content-type") == "text/javascript; charset=utf-8")
        #expect(library.body.contains("export class SwitchboardClient"))
        #expect(try await get("/assets/../../etc/passwd", on: plain).status == .notFound)

        // Pages are fenced (the dashboard holds an admin token); everything says what it is.
        let policy = try #require(dashboard.headers.first(name: "content-security-policy"))
        #expect(policy.contains("script-src 'self'") && policy.contains("default-src 'none'") && !policy.contains("unsafe-inline"))
        #expect(dashboard.headers["referrer-policy"] == ["no-referrer"])
        #expect(dashboard.headers["x-content-type-options"] == ["nosniff"])
        #expect(library.headers["x-content-type-options"] == ["nosniff"])
        #expect(library.headers["content-security-policy"].isEmpty, "a script needs no policy of its own")
        // Revalidated on every load, 304 while unchanged.
        #expect(library.headers["cache-control"] == ["no-cache"])
        let etag = try #require(library.headers.first(name: "etag"))
        let unchanged = try await get("/assets/switchboard.js", on: plain, headers: [("if-none-match", "\"other\", \(etag)")])
        #expect(unchanged.status == .notModified)
        #expect(unchanged.body.isEmpty)
        #expect(try await get("/assets/switchboard.js", on: plain, headers: [("if-none-match", "\"other\"")]).status == .ok)
        #expect(try #require(dashboard.headers.first(name: "etag")) != etag)

        let services = try await makeTestServices { $0.dev = true }
        let dev = try await channel(services)
        let demo = try await get("/demo", on: dev)
        #expect(demo.status == .ok)
        #expect(demo.body.contains("/assets/demo.js"))
        let minted = try await get("/demo/token?user=z%C3%B6e+b", on: dev)
        #expect(minted.status == .ok)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(minted.body.utf8)) as? [String: String])
        #expect(body["user"] == "zöe b")
        let token = try #require(body["token"])
        let verified = try await services.authentication.current.verify(token: token)
        #expect(verified.user == "zöe b" && !verified.isAdmin)
        #expect(verified.expiresAtMs > Int64(Date().timeIntervalSince1970 * 1000), "a demo token that has not expired")
        // A node without --dev, with the same JWT secret (and even with no audience rule),
        // refuses it: development tokens have their own key and audience.
        await #expect { _ = try await TokenAuthenticator(secret: services.configuration.jwtSecret).verify(token: token) } throws: { error in
            "\(error)".contains("not valid")
        }
        let production = try await TokenAuthenticator(secret: services.configuration.jwtSecret, jwks: nil, policy: TokenPolicy())
        await #expect(throws: AuthenticationError.self) { _ = try await production.verify(token: token) }
        let refused = try await get("/demo/token?user=", on: dev)
        #expect(refused.status == .badRequest)
        #expect(refused.code == "invalid_argument")
    }

    @Test("GET /ws that is no upgrade: 401 without a valid token, 426 with one")
    func notAnUpgrade() async throws {
        let services = try await makeTestServices()
        let channel = try await channel(services)
        let anonymous = try await get("/ws", on: channel, headers: [("origin", "https://app.example")])
        #expect(anonymous.status == .unauthorized)
        #expect(anonymous.code == "unauthenticated")
        #expect(anonymous.headers["access-control-allow-origin"] == ["*"], "a page on another origin can read why")
        let token = try await TokenAuthenticator(secret: services.configuration.jwtSecret).issue(user: "alice", validFor: .seconds(60))
        let plain = try await get("/ws?token=\(token)", on: channel)
        #expect(plain.status == .upgradeRequired)
        #expect(plain.code == "upgrade_required")
    }

    @Test("a refused upgrade is answered with the upgrade check's reason, and the connection is closed")
    func refusal() async throws {
        let services = try await makeTestServices()
        let handshake = Handshake()
        let channel = try await channel(services, handshake: handshake)
        handshake.refuse(.serviceUnavailable, .busy, "this node holds its maximum of 4 connections")
        let refused = try await get("/ws", on: channel)
        #expect(refused.status == .serviceUnavailable)
        #expect(refused.code == "busy")
        #expect(refused.headers["access-control-allow-origin"] == ["*"])
        #expect(refused.headers["connection"] == ["close"])
        try await channel.closeFuture.get()
    }

    @Test("Connection: close is honoured after the response")
    func connectionClose() async throws {
        let services = try await makeTestServices()
        let channel = try await channel(services)
        #expect(try await get("/healthz", on: channel, headers: [("Connection", "close")]).status == .ok)
        try await channel.closeFuture.get()
    }
}
