import SwitchboardProtocol
import Auth
import Essentials
import NIOCore
import NIOEmbedded
import NIOWebSocket
@testable import Node
import Testing
import NodeTestSupport
import TestSupport

/// A connection lives as long as its token (Centrifugo's connection expiry), on virtual time.
@Suite("Token expiry on virtual time")
struct TokenExpiryTests {
    /// No pings in the way: the test client answers none.
    private func makeServices() async throws -> SessionServices {
        try await makeTestServices { $0.pingInterval = .seconds(24 * 3600) }
    }

    private func text(_ frame: WebSocketFrame) -> String { String(buffer: frame.data) }

    @Test("a token that expires closes its connection with 4001, and the welcome said when")
    func expires() async throws {
        let services = try await makeServices()
        let start = WallClock.milliseconds
        let expiresAt = start + 100_000
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9))
        try await channel.pipeline.addHandler(ServerFrameReader())
        try await channel.pipeline.addHandler(WebSocketFrameEncoder())
        try await channel.pipeline.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1024)))
        try await channel.pipeline.addHandler(
            ClientChannelHandler(services: services, accepted: Handshake.Accepted(user: "alice", format: .json, tokenExpiresAtMs: expiresAt), channel: channel)
        )
        // The handler timed the expiry from the wall clock somewhere in start...set: a
        // busy machine may have let wall time pass meanwhile, which the virtual time allows for.
        let set = WallClock.milliseconds
        let welcome = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
        #expect(text(welcome).contains(#""tokenExpiresAtMs":\#(expiresAt)"#))
        let connection = try #require(services.registry.connections(of: "alice").first)
        await channel.testingEventLoop.advanceTime(by: .milliseconds(expiresAt - set - 1000))
        #expect(channel.isActive)
        await channel.testingEventLoop.advanceTime(by: .milliseconds(set - start + 2000))
        var close = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
        #expect(close.opcode == .connectionClose)
        #expect(close.data.readWebSocketErrorCode() == CloseReason.tokenExpiredCode)
        #expect(connection.reason == .tokenExpired)
    }

    @Test("a fresh token sent in band moves the expiry; one for another user, or an invalid one, does not")
    func refresh() async throws {
        let services = try await makeServices()
        let (channel, connection) = try await openTestConnection(services, tokenExpiresAtMs: WallClock.milliseconds + 100_000)
        func call(_ id: String, _ token: String) async throws -> String {
            try await channel.writeInbound(try clientBytes(
                .text, ByteBuffer(string: #"{"id":"\#(id)","call":"switchboard.refresh","data":{"token":"\#(token)"}}"#)
            ))
            return text(try await channel.waitForOutboundWrite(as: WebSocketFrame.self))
        }
        let bob = try await services.authentication.current.issue(user: "bob", validFor: .seconds(600))
        #expect(try await call("b", bob).contains("permission_denied"))
        #expect(try await call("x", "not-a-token").contains("unauthenticated"))
        let fresh = try await services.authentication.current.issue(user: "alice", validFor: .seconds(300))
        #expect(try await call("r", fresh).contains("expiresAtMs"))
        await channel.testingEventLoop.advanceTime(by: .seconds(150))
        #expect(channel.isActive, "past the old expiry, held open by the fresh token")
        await channel.testingEventLoop.advanceTime(by: .seconds(160))
        var close = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
        #expect(close.data.readWebSocketErrorCode() == CloseReason.tokenExpiredCode)
        #expect(connection.reason == .tokenExpired)
    }

    @Test("an expiry farther than a timer can hold (292 years) never closes the connection, and traps nothing")
    func beyondTheHorizon() async throws {
        let services = try await makeServices()
        let (channel, connection) = try await openTestConnection(services, tokenExpiresAtMs: 8_640_000_000_000_000)
        connection.tokenExpiry.set(expiresAtMs: Int64.max - 1, now: Int64.min + 1)  // the difference overflows
        connection.tokenExpiry.set(expiresAtMs: 8_640_000_000_000_000)
        await channel.testingEventLoop.advanceTime(by: .hours(23))  // short of the first ping
        #expect(channel.isActive)
        #expect(connection.reason != .tokenExpired)
    }
}
