import GRPCCore
import GRPCSupport
import NIOCore
import NIOPosix
import ServiceLifecycle
import ServiceLifecycleTestKit
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

/// A gRPC server stops even when a client never lets go of its connection.
@Suite("gRPC server shutdown", .timeLimit(.minutes(1)))
struct GRPCServerServiceTests {
    @Test("a client that opened an HTTP/2 connection and never reads again does not hold the server's graceful shutdown")
    func stalledClientDoesNotHoldShutdown() async throws {
        let (bound, ports) = AsyncStream.makeStream(of: Int.self)
        let server = GRPCServerService(
            host: "127.0.0.1", port: 0, service: SlowLocationService(), shutdownGrace: .milliseconds(200)
        ) { ports.yield($0) }
        try await testGracefulShutdown { trigger in
            let run = Task { try await server.run() }
            var listening = bound.makeAsyncIterator()
            let port = try #require(await listening.next())
            // The HTTP/2 preface and an empty SETTINGS frame, then the client stops reading:
            // it will never acknowledge the ping that comes with the server's GOAWAY.
            let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(ChannelOptions.autoRead, value: false)
                .connect(host: "127.0.0.1", port: port).get()
            var hello = ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            hello.writeBytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
            try await client.writeAndFlush(hello)
            trigger.triggerGracefulShutdown()
            // Without the grace this never returns; the suite's time limit would fail it.
            try await run.value
            client.close(promise: nil)  // the server may have closed it already
        }
    }

    @Test("a server cancelled during its shutdown grace (its group's window is over) stops without an error")
    func cancelledDuringGraceStopsCleanly() async throws {
        let (bound, ports) = AsyncStream.makeStream(of: Int.self)
        // A grace no test waits out: only the cancellation can end it.
        let server = GRPCServerService(
            host: "127.0.0.1", port: 0, service: SlowLocationService(), shutdownGrace: .seconds(3600)
        ) { ports.yield($0) }
        try await testGracefulShutdown { trigger in
            let run = Task { try await server.run() }
            var listening = bound.makeAsyncIterator()
            let port = try #require(await listening.next())
            // A client that never acknowledges the GOAWAY's ping keeps the server in its grace.
            let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(ChannelOptions.autoRead, value: false)
                .connect(host: "127.0.0.1", port: port).get()
            var hello = ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            hello.writeBytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
            try await client.writeAndFlush(hello)
            trigger.triggerGracefulShutdown()
            run.cancel()
            // Before: the grace's sleep threw CancellationError out of run(), and a node whose
            // drain window ran out under load failed its shutdown with it.
            await #expect(throws: Never.self) { try await run.value }
            client.close(promise: nil)
        }
    }
}
