import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP connection that writes exactly what a test gives it — half a request, a
/// lying header, garbage — and collects whatever comes back, for clients that no
/// WebSocket library would be.
package final class RawConnection: Sendable {
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex<[UInt8]>([])

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }
    }

    private let channel: any Channel
    private let collector: Collector

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    /// With `readPaused`, nothing is read from the socket (a client that only writes)
    /// until `resumeReading`. `receiveBufferBytes` sets the socket's receive buffer before
    /// it connects: a client that stops reading then holds kilobytes in the kernel, not
    /// the megabytes loopback's autotuning would give it.
    package static func connect(
        port: Int, host: String = "127.0.0.1", readPaused: Bool = false, receiveBufferBytes: Int? = nil
    ) async throws -> RawConnection {
        let collector = Collector()
        // A flooded node on busy cores may accept late: NIO's 10 s default was passed there.
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(60))
        if let receiveBufferBytes {
            bootstrap = bootstrap.channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: .init(receiveBufferBytes))
        }
        let channel = try await bootstrap
            .channelOption(ChannelOptions.autoRead, value: !readPaused)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: host, port: port)
            .get()
        return RawConnection(channel: channel, collector: collector)
    }

    package func pauseReading() async throws {
        try await channel.setOption(ChannelOptions.autoRead, value: false).get()
    }

    package func resumeReading() {
        channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
    }

    /// Writes without waiting for the bytes to leave: for a flood into a socket that may
    /// never drain.
    package func writeAndForget(_ bytes: [UInt8]) {
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
    }

    package func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }

    package func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Everything received so far.
    package var bytes: [UInt8] { collector.received.withLock { $0 } }
    package var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The peer closed the connection (or it broke).
    package var isClosed: Bool { !channel.isActive }

    package func close() async {
        try? await channel.close()
    }
}

extension RawConnection {
    /// A WebSocket connection made by hand: the upgrade request with `token`, then the
    /// 101 and the welcome. Frames are written with `WebSocketWire` and read with `frames`.
    package static func webSocket(port: Int, token: String) async throws -> RawConnection {
        let connection = try await connect(port: port)
        return try await connection.upgrade(token: token)
    }

    /// Sends the upgrade request on this connection and waits for the 101 (and, when
    /// reading, the welcome).
    package func upgrade(token: String) async throws -> RawConnection {
        let connection = self
        try await connection.write(
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Authorization: Bearer \(token)\r\n\r\n"
        )
        try await waitUntil { connection.frames.first.map { $0.text.contains("welcome") } ?? false || connection.isClosed }
        guard connection.text.hasPrefix("HTTP/1.1 101") else { throw TestFailure("no upgrade: \(connection.text.prefix(200))") }
        return connection
    }

    /// The WebSocket frames received after the upgrade's response head.
    package var frames: [WebSocketWire.Frame] {
        let received = bytes
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        guard let head = (0...max(0, received.count - 4)).first(where: { received.count >= $0 + 4 && Array(received[$0..<$0 + 4]) == end }) else {
            return []
        }
        return WebSocketWire.parse(Array(received[(head + 4)...]))
    }

    /// Frames after the welcome.
    package var framesAfterWelcome: [WebSocketWire.Frame] { Array(frames.dropFirst()) }
}
