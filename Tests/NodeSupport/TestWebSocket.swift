import TestSupport
import HTTPTypes
import Logging
import NIOCore
package import NIOWebSocket
import SwiftProtobuf
package import SwitchboardProtocol
import Synchronization
package import WSClient

/// A real WebSocket client (swift-websocket's WSClient) driven step by step from a test.
///
/// With `readPaused`, the client never reads its socket after the upgrade: once the
/// small inbound buffer fills, NIO stops reading and the server sees a slow consumer.
package final class TestWebSocket: Sendable {
    /// The subprotocol the client offers.
    package typealias Format = WireFormat

    private struct Inbox {
        var messages: [WebSocketMessage] = []
        var head = 0
        var finished = false
    }

    private final class Mailbox: Sendable {
        let state = Mutex(Inbox())
    }

    private let inbox: Mailbox
    private let outbox: AsyncStream<WebSocketOutboundWriter.OutboundFrame?>.Continuation
    private let run: Task<WebSocketCloseFrame?, any Error>
    private let resume: AsyncStream<Void>.Continuation

    private init(
        inbox: Mailbox,
        outbox: AsyncStream<WebSocketOutboundWriter.OutboundFrame?>.Continuation,
        run: Task<WebSocketCloseFrame?, any Error>,
        resume: AsyncStream<Void>.Continuation
    ) {
        self.inbox = inbox
        self.outbox = outbox
        self.run = run
        self.resume = resume
    }

    /// Starts reading a client connected with `readPaused`.
    package func resumeReading() {
        resume.finish()
    }

    /// Returns once the node's welcome frame has arrived (unless `readPaused` or not
    /// `awaitWelcome`), so the connection is reachable when this returns.
    package static func connect(
        url: String, token: String?, format: Format = .json, readPaused: Bool = false, awaitWelcome: Bool = true
    ) async throws -> TestWebSocket {
        var configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 24, autoPing: .disabled, validateUTF8: false)
        if let token { configuration.additionalHeaders[.authorization] = "Bearer \(token)" }
        configuration.additionalHeaders[.secWebSocketProtocol] = format.rawValue
        let inbox = Mailbox()
        let (outbox, outboxContinuation) = AsyncStream.makeStream(of: WebSocketOutboundWriter.OutboundFrame?.self)
        let (started, startedContinuation) = AsyncStream.makeStream(of: Bool.self)
        let (resumed, resumeContinuation) = AsyncStream.makeStream(of: Void.self)
        var logger = Logger(label: "test-client")
        logger.logLevel = .critical
        let run = Task {
            defer {
                inbox.state.withLock { $0.finished = true }
                startedContinuation.finish()
            }
            return try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
                startedContinuation.yield(true)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await frame in outbox {
                            guard let frame else {
                                try await outbound.close(.normalClosure, reason: nil)
                                return
                            }
                            try await outbound.write(frame)
                        }
                    }
                    if readPaused {
                        for await _ in resumed {}
                    }
                    do {
                        for try await message in inbound.messages(maxSize: 1 << 24) {
                            inbox.state.withLock { $0.messages.append(message) }
                        }
                    } catch {}
                    inbox.state.withLock { $0.finished = true }
                    group.cancelAll()
                }
            }
        }
        // The client ends with its test: if the test outlives its limit, the watchdog cancels it.
        let watch = TestWatchdog.shared.guarding("a WebSocket client of \(url)") { run.cancel() }
        Task { _ = await run.result; watch.release() }
        // Neither a node that never answers the upgrade nor a cancelled test holds this
        // for ever: the connect is given up after a minute, or at once when cancelled.
        let waiting = Task { () async throws -> Bool in
            var iterator = started.makeAsyncIterator()
            return await iterator.next() != nil
        }
        let upgraded = try await withTaskCancellationHandler {
            try await waiting.value(within: .seconds(60), "the WebSocket upgrade with \(url)")
        } onCancel: {
            waiting.cancel()
        }
        guard upgraded, !Task.isCancelled else {
            run.cancel()
            _ = try await run.value(within: .seconds(30), "the failed WebSocket connect to \(url)")
            throw TestFailure(Task.isCancelled ? "the WebSocket connect was cancelled" : "the WebSocket closed before the upgrade")
        }
        if !readPaused { resumeContinuation.finish() }
        let socket = TestWebSocket(inbox: inbox, outbox: outboxContinuation, run: run, resume: resumeContinuation)
        // The node's first frame says the connection is in its map and in presence.
        if !readPaused && awaitWelcome {
            switch try await socket.receive() {
            case .text(let text) where text.contains(#""welcome""#): break
            case .binary(let bytes) where (try? Switchboard_V1_ServerFrame(serializedBytes: Array(bytes.readableBytesView)))?.welcome.connection.isEmpty == false: break
            case let other: throw TestFailure("expected a welcome frame first, got \(String(describing: other))")
            }
        }
        return socket
    }

    package func send(_ text: String) {
        outbox.yield(.text(text))
    }

    package func send(binary bytes: [UInt8]) {
        outbox.yield(.binary(ByteBuffer(bytes: bytes)))
    }

    package func send(frame: WebSocketFrame) {
        outbox.yield(.custom(frame))
    }

    /// The next message from the server, or nil once the socket has closed.
    package func receive(timeout: Duration = .seconds(30)) async throws -> WebSocketMessage? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        // Polls, backing off to 20 ms: hundreds of clients waiting at 2 ms each took cores
        // from the nodes under test.
        var pause = Duration.milliseconds(1)
        while true {
            let next: WebSocketMessage?? = inbox.state.withLock { inbox in
                if inbox.head < inbox.messages.count {
                    defer {
                        inbox.head += 1
                        if inbox.head > 4096 {
                            inbox.messages.removeFirst(inbox.head)
                            inbox.head = 0
                        }
                    }
                    return .some(inbox.messages[inbox.head])
                }
                return inbox.finished ? .some(nil) : nil
            }
            if let next { return next }
            guard ContinuousClock.now < deadline else { throw TestFailure("no message within \(timeout)") }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(20))
        }
    }

    package func receiveText(timeout: Duration = .seconds(30)) async throws -> String {
        switch try await receive(timeout: timeout) {
        case .text(let text): return text
        case .binary(let bytes): throw TestFailure("expected text, got \(bytes.readableBytes) binary bytes")
        case nil: throw TestFailure("closed while waiting for a text frame")
        }
    }

    package func receiveBinary(timeout: Duration = .seconds(30)) async throws -> [UInt8] {
        switch try await receive(timeout: timeout) {
        case .binary(let bytes): return Array(bytes.readableBytesView)
        case .text(let text): throw TestFailure("expected binary, got text \(text)")
        case nil: throw TestFailure("closed while waiting for a binary frame")
        }
    }

    /// Sends a close and waits for the socket to end.
    package func close() async throws {
        outbox.yield(nil)
        outbox.finish()
        _ = try await closed(within: .seconds(30))
    }

    /// Waits for the server to close the socket; the close frame it sent, if any.
    /// Returns within `timeout` even if the client ignores its cancellation.
    package func closed(within timeout: Duration = .seconds(30)) async throws -> WebSocketCloseFrame? {
        try await run.value(within: timeout, "the socket's close")
    }
}
