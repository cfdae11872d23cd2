import Identity
import SwitchboardProtocol
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
@testable import Node
import Presence
import Synchronization
import Testing

/// The write pump and liveness check on `EmbeddedChannel` with virtual time: every
/// interval and limit here is exact, however busy the machine running the test.
@Suite("Connection pump on virtual time")
struct ConnectionPumpTests {
    /// What the pump reported when its queue ended.
    final class Endings: Sendable {
        let values = Mutex<[OutboundQueue.Ending]>([])
        var count: Int { values.withLock { $0.count } }
    }

    /// A connected `EmbeddedChannel` holding a pump, and the connection it serves.
    private func pump(
        pingInterval: TimeAmount = .seconds(10), maxMessages: Int = 8, maxBytes: Int = 1024
    ) throws -> (EmbeddedChannel, ClientConnection, Endings) {
        let channel = EmbeddedChannel()
        let slot = PumpSlot(eventLoop: channel.eventLoop)
        let queue = OutboundQueue(maxMessages: maxMessages, maxBytes: maxBytes) { slot.wake() }
        let metrics = NodeMetrics(nodeID: "n", clustered: false)
        let connection = ClientConnection(
            id: ConnectionID(nodeID: "n", sequence: 1), user: "u", format: .json, queue: queue, pumpSlot: slot, channel: channel,
            metrics: metrics, logger: Logger(label: "pump-test")
        )
        let endings = Endings()
        let pump = ConnectionPump(connection: connection, metrics: metrics, pingInterval: pingInterval) { ending in
            endings.values.withLock { $0.append(ending) }
        }
        // As on an upgraded socket: the pump writes whole frames past NIO's encoder.
        try channel.pipeline.syncOperations.addHandler(ServerFrameReader())
        try channel.pipeline.syncOperations.addHandler(WebSocketFrameEncoder())
        try channel.pipeline.syncOperations.addHandler(pump)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return (channel, connection, endings)
    }

    private func text(_ string: String) -> EncodedFrame {
        EncodedFrame(opcode: .text, data: ByteBuffer(string: string))
    }

    private func clientFrame(_ opcode: WebSocketOpcode) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: opcode, data: ByteBuffer())
    }

    @Test("a ping goes out every interval; a client that answers stays, one that sends nothing for a whole interval is closed with 1001")
    func pingAndLiveness() throws {
        let (channel, connection, _) = try pump(pingInterval: .seconds(10))
        channel.embeddedEventLoop.advanceTime(by: .seconds(10) - .nanoseconds(1))
        #expect(try channel.readOutbound(as: WebSocketFrame.self) == nil, "a ping before the interval")
        channel.embeddedEventLoop.advanceTime(by: .nanoseconds(1))
        #expect(try channel.readOutbound(as: WebSocketFrame.self)?.opcode == .ping)

        // The client answers (any frame counts): the next tick pings again instead of closing.
        try channel.writeInbound(clientFrame(.pong))
        #expect(try channel.readInbound(as: WebSocketFrame.self)?.opcode == .pong, "the pump passes frames on")
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(try channel.readOutbound(as: WebSocketFrame.self)?.opcode == .ping)
        #expect(channel.isActive)

        // Silence for a whole interval after a ping: closed, counted as a ping timeout.
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        var close = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(close.opcode == .connectionClose)
        #expect(close.data.readWebSocketErrorCode() == .goingAway)
        #expect(!channel.isActive)
        #expect(connection.reason == .pingTimeout)
    }

    @Test("queued frames are written in order while the socket is writable, and resume when it drains")
    func writesWhileWritable() throws {
        let (channel, connection, _) = try pump()
        connection.enqueue(text("1"))
        #expect(try channel.readOutbound(as: WebSocketFrame.self).map { String(buffer: $0.data) } == "1")

        channel.isWritable = false
        connection.enqueue(text("2"))
        connection.enqueue(text("3"))
        #expect(try channel.readOutbound(as: WebSocketFrame.self) == nil, "written to a socket that cannot take it")

        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(try channel.readOutbound(as: WebSocketFrame.self).map { String(buffer: $0.data) } == "2")
        #expect(try channel.readOutbound(as: WebSocketFrame.self).map { String(buffer: $0.data) } == "3")
        #expect(try channel.readOutbound(as: WebSocketFrame.self) == nil)
    }

    @Test("a frame for an idle connection is written at once, but never ahead of frames already queued")
    func writtenAtOnceOnlyWhenIdle() throws {
        let (channel, connection, _) = try pump()
        channel.isWritable = false
        connection.enqueue(text("2"))
        connection.enqueue(text("3"))
        // The socket would take more now, but the pump has not been told yet: "4" must
        // wait behind "2" and "3" rather than be written at once.
        channel.isWritable = true
        connection.enqueue(text("4"))
        #expect(try channel.readOutbound(as: WebSocketFrame.self) == nil, "a frame written past the queued ones")
        channel.pipeline.fireChannelWritabilityChanged()
        for expected in ["2", "3", "4"] {
            #expect(try channel.readOutbound(as: WebSocketFrame.self).map { String(buffer: $0.data) } == expected)
        }
        // Idle again: the next frame goes out at once, with no wake-up in between.
        connection.enqueue(text("5"))
        #expect(try channel.readOutbound(as: WebSocketFrame.self).map { String(buffer: $0.data) } == "5")
        #expect(connection.queue.isIdle)
    }

    @Test("a queue past its message limit closes the connection with 4008 as a slow consumer and drops what it held")
    func slowConsumerByMessages() throws {
        let (channel, connection, _) = try pump(maxMessages: 4, maxBytes: 1 << 20)
        channel.isWritable = false  // the client stopped reading
        for n in 0..<4 { #expect(connection.enqueue(text("\(n)"))) }
        #expect(channel.isActive)
        #expect(!connection.enqueue(text("one too many")))
        var close = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(close.opcode == .connectionClose)
        #expect(close.data.readWebSocketErrorCode() == CloseReason.slowConsumerCode)
        #expect(!channel.isActive)
        #expect(connection.reason == .slowConsumer)
        #expect(!connection.enqueue(text("after the end")), "a closed connection takes nothing more")
        // The pump never writes the dropped frames, even once the socket would take them.
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(try channel.readOutbound(as: WebSocketFrame.self) == nil)
    }

    @Test("a queue past its byte limit is a slow consumer too, while one just under it is not")
    func slowConsumerByBytes() throws {
        let (channel, connection, _) = try pump(maxMessages: 100, maxBytes: 100)
        channel.isWritable = false
        #expect(connection.enqueue(text(String(repeating: "a", count: 60))))
        #expect(connection.enqueue(text(String(repeating: "b", count: 40))))
        #expect(channel.isActive, "exactly at the byte limit is allowed")
        #expect(!connection.enqueue(text("c")))
        #expect(!channel.isActive)
        #expect(connection.reason == .slowConsumer)
    }

    @Test("a shutdown ending is reported only after every frame queued before it is written")
    func endingAfterQueuedFrames() throws {
        let (channel, connection, endings) = try pump()
        channel.isWritable = false
        connection.enqueue(text("last words"))
        connection.queue.finish(.shutdown)
        #expect(endings.count == 0, "ended before the queued frame was written")
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(try channel.readOutbound(as: WebSocketFrame.self).map { String(buffer: $0.data) } == "last words")
        let ending = try #require(endings.values.withLock { $0.first })
        guard case .shutdown = ending else {
            Issue.record("ended with \(ending), not shutdown")
            return
        }
        #expect(endings.count == 1)
    }
}
