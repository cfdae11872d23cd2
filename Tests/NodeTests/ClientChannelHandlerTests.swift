import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
@testable import Node
import Presence
import Synchronization
import Testing
import NodeTestSupport
import TestSupport

/// The read side of a client socket on `NIOAsyncTestingChannel` (thread-safe, as the
/// session's tasks write from the concurrency pool) with virtual time.
@Suite("Client channel handler on virtual time")
struct ClientChannelHandlerTests {
    private func open(_ services: SessionServices) async throws -> (NIOAsyncTestingChannel, ClientConnection) {
        try await openTestConnection(services)
    }

    @Test("a close the node starts waits the close timeout for the client's answer, then drops the socket")
    func closeTimeout() async throws {
        let services = try await makeTestServices { $0.closeTimeout = .seconds(2) }
        let (channel, connection) = try await open(services)
        connection.queue.finish(.shutdown)
        var close = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
        #expect(close.opcode == .connectionClose)
        #expect(close.data.readWebSocketErrorCode() == CloseReason.restartCode)
        await channel.testingEventLoop.advanceTime(by: .seconds(2) - .nanoseconds(1))
        #expect(channel.isActive, "dropped before the close timeout")
        await channel.testingEventLoop.advanceTime(by: .nanoseconds(1))
        try await channel.closeFuture.get()
        #expect(connection.reason == .shutdown)
    }

    @Test("a client that answers the node's close is let go at once, without waiting for the timeout")
    func closeAnswered() async throws {
        let services = try await makeTestServices { $0.closeTimeout = .seconds(60) }
        let (channel, connection) = try await open(services)
        connection.queue.finish(.disconnect(reason: "bye"))
        var close = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
        #expect(close.data.readWebSocketErrorCode() == CloseReason.disconnectedCode)
        try await channel.writeInbound(try clientBytes(.connectionClose, closePayload(CloseReason.disconnectedCode)))
        try await channel.closeFuture.get()
        #expect(connection.reason == .disconnected)
    }

    @Test("a client's ping is answered with a pong carrying its payload")
    func pingIsAnswered() async throws {
        let services = try await makeTestServices()
        let (channel, _) = try await open(services)
        try await channel.writeInbound(try clientBytes(.ping, ByteBuffer(string: "are you there")))
        let pong = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
        #expect(pong.opcode == .pong)
        #expect(String(buffer: pong.data) == "are you there")
        #expect(channel.isActive)
        try await channel.close()
    }

    @Test("a client's close is echoed with its code, then the socket closes and the connection leaves the map")
    func clientClose() async throws {
        let services = try await makeTestServices()
        let (channel, _) = try await open(services)
        try await channel.writeInbound(try clientBytes(.connectionClose, closePayload(.normalClosure, reason: "done")))
        var echo = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
        #expect(echo.opcode == .connectionClose)
        #expect(echo.data.readWebSocketErrorCode() == .normalClosure)
        try await channel.closeFuture.get()
        try await waitUntil { services.registry.count == 0 }
    }

    @Test("a text frame that is not UTF-8 closes with 1007")
    func invalidUTF8() async throws {
        let services = try await makeTestServices()
        let (channel, connection) = try await open(services)
        try await channel.writeInbound(try clientBytes(.text, ByteBuffer(bytes: [0x68, 0xC3, 0x28])))
        var close = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
        #expect(close.data.readWebSocketErrorCode() == .dataInconsistentWithMessage)
        try await channel.closeFuture.get()
        #expect(connection.reason == .invalidUTF8)
    }

    @Test("the node's ping interval comes from its configuration: a silent client is closed after two intervals")
    func pingIntervalFromConfiguration() async throws {
        let services = try await makeTestServices { $0.pingInterval = .seconds(5) }
        let (channel, connection) = try await open(services)
        await channel.testingEventLoop.advanceTime(by: .seconds(5))
        #expect(try await channel.waitForOutboundWrite(as: WebSocketFrame.self).opcode == .ping)
        #expect(channel.isActive)
        await channel.testingEventLoop.advanceTime(by: .seconds(5))
        #expect(try await channel.waitForOutboundWrite(as: WebSocketFrame.self).opcode == .connectionClose)
        try await channel.closeFuture.get()
        #expect(connection.reason == .pingTimeout)
    }

    /// Whether the handler left the socket being read (the testing channel records the
    /// `autoRead` the handler set; it does not act on it).
    private func isReading(_ channel: NIOAsyncTestingChannel) -> Bool {
        channel.options.last { $0.option is ChannelOptions.Types.AutoReadOption }?.value as? Bool ?? true
    }

    @Test("past 256 unhandled messages the socket stops being read, and reading resumes once the session catches up")
    func pauseAndResumeReading() async throws {
        let presence = GatedPresence()
        let services = try await makeTestServices(presence: presence)
        let (channel, _) = try await open(services)
        // A presence lookup that does not return holds the session's inbox.
        try await channel.writeInbound(try clientBytes(.text, ByteBuffer(string: #"{"id":"held","presence":{"user":"bob"}}"#)))
        try await presence.waitForLookup()
        for n in 0..<SessionWork.highWater {
            try await channel.writeInbound(try clientBytes(.text, ByteBuffer(string: #"{"id":"\#(n)","ping":{}}"#)))
        }
        #expect(isReading(channel), "paused at the high-water mark, not before")
        try await channel.writeInbound(try clientBytes(.text, ByteBuffer(string: #"{"id":"one more","ping":{}}"#)))
        #expect(!isReading(channel), "still reading past the high-water mark")

        presence.open()
        try await waitUntil { isReading(channel) }
        // Every message was answered, the held one first.
        var ids: [String] = []
        while ids.count < SessionWork.highWater + 2 {
            let frame = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
            if let object = try JSONSerialization.jsonObject(with: Data(frame.data.readableBytesView)) as? [String: Any], let id = object["id"] as? String {
                ids.append(id)
            }
        }
        #expect(ids.first == "held")
        #expect(ids.last == "one more")
        try await channel.close()
    }
}

/// Presence whose lookups wait until the test opens the gate.
final class GatedPresence: PresenceDirectory {
    private let inner = InProcessPresenceDirectory()
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>], lookups: Int)>((false, [], 0))

    func announce(_ entry: PresenceEntry) async throws { try await inner.announce(entry) }
    func withdraw(_ entry: PresenceEntry) async throws { try await inner.withdraw(entry) }

    func lookup(user: String, limit: Int) async throws -> PresenceLookup {
        await withCheckedContinuation { continuation in
            let proceed = state.withLock { state in
                state.lookups += 1
                if state.open { return true }
                state.waiting.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
        return try await inner.lookup(user: user, limit: limit)
    }

    func waitForLookup() async throws {
        try await waitUntil { state.withLock { $0.lookups > 0 } }
    }

    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        waiting.forEach { $0.resume() }
    }
}
