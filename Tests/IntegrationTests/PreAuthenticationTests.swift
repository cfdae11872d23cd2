import Essentials
import Foundation
@testable import Node
import Testing
import NodeTestSupport
import TestSupport

/// Limits on clients that have not authenticated yet: they get a deadline, count against
/// their address, never take a connection slot, and cannot park a socket behind a body.
@Suite("Before authentication", .timeLimit(.minutes(2)))
struct PreAuthenticationTests {
    private static let upgradeHead =
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

    @Test("half-sent upgrade requests are dropped after the handshake timeout; a real client still connects meanwhile and stays")
    func slowloris() async throws {
        // The deadline applies to the real client's upgrade too: 10 s (the default) leaves a
        // saturated machine time for it (1 s was passed there). The half-sent requests are
        // dropped all the same: that is the outcome tested.
        try await withNode(configure: { $0.handshakeTimeout = .seconds(10) }) { node in
            var loris: [RawConnection] = []
            for _ in 0..<50 {
                let connection = try await RawConnection.connect(port: node.port)
                // And nothing more. On a busy machine opening 50 can take past the deadline,
                // so the node may have closed this one already: that is the outcome tested.
                try? await connection.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr")
                loris.append(connection)
            }
            let client = try await TestWebSocket.connect(url: node.url, token: try await node.token(for: "real"))
            try await waitUntil(timeout: .seconds(60)) { loris.allSatisfy(\.isClosed) }
            #expect(try await node.metricValue("switchboard_limit_hits_total", labels: ["limit": "handshake_timeout"]) >= 50)
            // The upgraded client has no deadline.
            client.send(#"{"id":"p","ping":{}}"#)
            #expect(try await client.receiveJSON()["id"] as? String == "p")
            // The count drops as each dropped connection's close is handled: on a busy
            // machine that can come after the client's answer.
            try await waitUntil { node.node.admission.pending.count(of: "127.0.0.1") == 0 }
            try await client.close()
        }
    }

    @Test("one address may hold only max-pending-per-address unfinished connections; upgraded ones do not count")
    func pendingPerAddress() async throws {
        try await withNode(configure: { $0.maxPendingPerAddress = 4 }) { node in
            var idle: [RawConnection] = []
            for _ in 0..<4 { idle.append(try await RawConnection.connect(port: node.port)) }
            try await waitUntil { node.node.admission.pending.count(of: "127.0.0.1") == 4 }
            let refused = try await RawConnection.connect(port: node.port)
            try await waitUntil { refused.isClosed }
            #expect(refused.bytes.isEmpty)
            // One of them finishes its upgrade: no longer pending, and room for one more.
            try await idle[0].write(Self.upgradeHead + "Authorization: Bearer \(try await node.token(for: "late"))\r\n\r\n")
            try await waitUntil { idle[0].text.hasPrefix("HTTP/1.1 101") }
            try await waitUntil { node.node.admission.pending.count(of: "127.0.0.1") == 3 }
            let another = try await RawConnection.connect(port: node.port)
            try await waitUntil { node.node.admission.pending.count(of: "127.0.0.1") == 4 }
            #expect(!another.isClosed)
            for connection in idle + [another] { await connection.close() }
            try await waitUntil { node.node.admission.pending.count(of: "127.0.0.1") == 0 }
            #expect(try await node.metricValue("switchboard_limit_hits_total", labels: ["limit": "pending_per_address"]) >= 1)
        }
    }

    @Test("the admin port has the same deadline and per-address cap, counted apart: a flood there shuts out neither probes later nor clients")
    func adminPort() async throws {
        try await withNode(configure: {
            $0.adminPort = 0
            $0.maxPendingPerAddress = 3
            $0.handshakeTimeout = .seconds(2)
        }) { node in
            let adminPort = try #require(node.adminPort)
            var idle: [RawConnection] = []
            for _ in 0..<3 { idle.append(try await RawConnection.connect(port: adminPort)) }
            let refused = try await RawConnection.connect(port: adminPort)
            try await waitUntil { refused.isClosed }
            #expect(refused.bytes.isEmpty, "the fourth from one address is closed without an answer")
            // The client port counts apart: a client still connects.
            let client = try await TestWebSocket.connect(url: node.url, token: try await node.token(for: "client"))
            // The idle ones pass their deadline and are dropped; probes get through again.
            try await waitUntil(timeout: .seconds(60)) { idle.allSatisfy(\.isClosed) }
            try await waitUntil { (try? await HTTPProbe.get(port: adminPort, path: "/healthz").status) == 200 }
            // Polled: on a busy machine a scrape can still meet the cap while closes are handled.
            try await waitUntil {
                (try? await node.metricValue("switchboard_limit_hits_total", labels: ["limit": "handshake_timeout"])) ?? 0 >= 3
            }
            try await client.close()
        }
    }

    @Test("behind a trusted proxy the PROXY header's address is the one counted (IPv6 per /64); a connection from it without one is closed")
    func trustedProxy() async throws {
        try await withNode(configure: {
            $0.trustedProxies = [AddressRange("127.0.0.1")!]
            $0.maxPendingPerAddress = 2
            $0.adminPort = 0  // metrics: every plain connection to the client port here comes from the "proxy"
        }) { node in
            func proxied(_ header: [UInt8]) async throws -> RawConnection {
                let connection = try await RawConnection.connect(port: node.port)
                try await connection.write(header)
                return connection
            }
            func v1(_ source: String) -> [UInt8] {
                Array("PROXY \(source.contains(":") ? "TCP6" : "TCP4") \(source) \(source.contains(":") ? "::1" : "127.0.0.1") 40000 8080\r\n".utf8)
            }
            // Two clients behind the proxy fill 203.0.113.1's quota; a third from it is
            // refused, while another client of the same proxy still gets in.
            let first = [try await proxied(v1("203.0.113.1")), try await proxied(v1("203.0.113.1"))]
            try await waitUntil { node.node.admission.pending.count(of: "203.0.113.1") == 2 }
            let refused = try await proxied(v1("203.0.113.1"))
            try await waitUntil { refused.isClosed }
            let other = try await proxied(v1("203.0.113.2"))
            try await waitUntil { node.node.admission.pending.count(of: "203.0.113.2") == 1 }
            #expect(node.node.admission.pending.count(of: "127.0.0.1") == 0, "the proxy's own address counts nothing")
            // IPv6 sources share their /64's quota.
            let six = [try await proxied(v1("2001:db8:0:1::a")), try await proxied(v1("2001:db8:0:1::b"))]
            try await waitUntil { node.node.admission.pending.count(of: "2001:db8:0:1::/64") == 2 }
            let sameNetwork = try await proxied(v1("2001:db8:0:1::c"))
            try await waitUntil { sameNetwork.isClosed }
            // A v2 header, then a whole upgrade: the client is served.
            var address = [UInt8](repeating: 0, count: 36)
            address[0] = 0x20; address[1] = 0x01; address[2] = 0x0D; address[3] = 0xB8; address[15] = 7
            let client = try await proxied(ProxyProtocolHeader.v2(family: 0x21, addresses: address))
            _ = try await client.upgrade(token: try await node.token(for: "behind-proxy"))
            #expect(node.node.session.registry.connections(of: "behind-proxy").count == 1)
            // From the trusted proxy without a header: closed, and counted.
            let bare = try await RawConnection.connect(port: node.port)
            try await bare.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try await waitUntil { bare.isClosed }
            #expect(!bare.text.contains("200"))
            #expect(try await node.metricValue("switchboard_limit_hits_total", labels: ["limit": "proxy_header"]) >= 1)
            for connection in first + six + [other, client] { await connection.close() }
        }
    }

    @Test("an upgrade request that announces a body is answered 400 at once, without waiting for the body")
    func requestBody() async throws {
        try await withNode { node in
            let token = try await node.token(for: "bodied")
            for header in ["Content-Length: 1000000", "Transfer-Encoding: chunked"] {
                let connection = try await RawConnection.connect(port: node.port)
                try await connection.write(Self.upgradeHead + "Authorization: Bearer \(token)\r\n\(header)\r\n\r\n")
                try await waitUntil { connection.isClosed }
                #expect(connection.text.hasPrefix("HTTP/1.1 400"), "\(connection.text)")
                #expect(connection.text.contains(#""code":"bad_request""#))
            }
            #expect(node.node.connectionCount == 0)
            #expect(try await node.metricValue("switchboard_limit_hits_total", labels: ["limit": "request_body"]) == 2)
        }
    }

    @Test("the token is checked before a slot is taken: on a full node a bad token gets 401, not 503")
    func tokenBeforeSlot() async throws {
        try await withNode(configure: { $0.maxConnections = 1 }) { node in
            let held = try await TestWebSocket.connect(url: node.url, token: try await node.token(for: "first"))
            let bad = try await HTTPProbe.upgrade(port: node.port, query: "?token=not-a-token")
            #expect(bad.status == 401)
            let good = try await HTTPProbe.upgrade(port: node.port, query: "?token=\(try await node.token(for: "second"))")
            #expect(good.status == 503)
            #expect(node.node.admission.slots.inUse == 1)
            try await held.close()
        }
    }
}

/// PROXY protocol v2 headers as a load balancer writes them.
enum ProxyProtocolHeader {
    static func v2(command: UInt8 = 0x21, family: UInt8, addresses: [UInt8]) -> [UInt8] {
        [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
            + [command, family, UInt8(addresses.count >> 8), UInt8(addresses.count & 0xFF)] + addresses
    }
}
