import NIOCore
import NIOEmbedded
@testable import RedisClient
import Testing

/// The Redis pipeline end on `EmbeddedChannel` with virtual time: replies in order
/// however the bytes are split, pushes to the subscriber, and the stalled-command
/// watchdog to the nanosecond.
@Suite("RESP handler on virtual time")
struct RESPHandlerTests {
    final class Pushes: @unchecked Sendable {
        var replies: [RedisReply] = []
    }

    private func channel(timeout: TimeAmount = .seconds(2), pushes: Pushes = Pushes()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(RESPHandler(commandTimeout: timeout) { pushes.replies.append($0) })
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        return channel
    }

    private func request(_ channel: EmbeddedChannel, _ arguments: [String]) -> EventLoopFuture<RedisReply> {
        let promise = channel.eventLoop.makePromise(of: RedisReply.self)
        channel.write(RESPHandler.Request(command: RedisCommand(arguments), reply: { promise.completeWith($0.mapError { $0 }) }), promise: nil)
        return promise.futureResult
    }

    @Test("commands are formatted by hiredis as RESP arrays of bulk strings, binary-safe")
    func formatting() {
        #expect(String(buffer: RedisCommand(["SET", "k", "v"]).bytes) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
        let binary = RedisCommand([Array("SET".utf8), Array("k".utf8), [0, 13, 10, 255]]).bytes
        #expect(Array(binary.readableBytesView) == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n".utf8) + [0, 13, 10, 255] + Array("\r\n".utf8))
        #expect(String(buffer: RedisCommand(["PING"]).bytes) == "*1\r\n$4\r\nPING\r\n")
    }

    @Test("pipelined commands get their replies in order, whichever way the bytes are split")
    func repliesInOrder() throws {
        let channel = try channel()
        let first = request(channel, ["INCR", "a"])
        let second = request(channel, ["GET", "b"])
        let third = request(channel, ["LRANGE", "c", "0", "-1"])
        channel.flush()
        var written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        while let more = try channel.readOutbound(as: ByteBuffer.self) { written.writeImmutableBuffer(more) }
        #expect(String(buffer: written).hasPrefix("*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*2\r\n$3\r\nGET"))

        let replies = ":7\r\n$5\r\nhello\r\n*2\r\n$1\r\nx\r\n$-1\r\n"
        // Split mid-reply: nothing completes before its last byte arrives.
        try channel.writeInbound(ByteBuffer(string: String(replies.prefix(6))))
        #expect(try first.wait() == .integer(7))
        var secondDone = false
        second.whenComplete { _ in secondDone = true }
        #expect(!secondDone)
        try channel.writeInbound(ByteBuffer(string: String(replies.dropFirst(6))))
        #expect(try second.wait() == .string(Array("hello".utf8)))
        #expect(try third.wait() == .array([.string(Array("x".utf8)), .null]))
        _ = try channel.finish()
    }

    @Test("an error reply is a value for its own command and does not disturb the next")
    func errorReply() throws {
        let channel = try channel()
        let bad = request(channel, ["NOSUCH"])
        let good = request(channel, ["PING"])
        try channel.writeInbound(ByteBuffer(string: "-ERR unknown command\r\n+PONG\r\n"))
        #expect(try bad.wait() == .error("ERR unknown command"))
        #expect(try good.wait() == .status("PONG"))
        _ = try channel.finish()
    }

    @Test("replies no command waits for (subscribe mode) go to the push handler in order")
    func pushes() throws {
        let pushes = Pushes()
        let channel = try channel(pushes: pushes)
        try channel.writeInbound(ByteBuffer(string: "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"))
        #expect(pushes.replies.count == 2)
        #expect(pushes.replies.last == .array([.string(Array("message".utf8)), .string(Array("ch".utf8)), .string(Array("hi".utf8))]))
        _ = try channel.finish()
    }

    @Test("a closed connection fails every command waiting on it")
    func closeFailsWaiting() throws {
        let channel = try channel()
        let waiting = request(channel, ["GET", "a"])
        channel.pipeline.fireChannelInactive()
        #expect(throws: RedisError.self) { try waiting.wait() }
        _ = try? channel.finish()
    }

    @Test("bytes that are not RESP fail what waits and close the connection")
    func protocolError() throws {
        let channel = try channel()
        let waiting = request(channel, ["GET", "a"])
        try? channel.writeInbound(ByteBuffer(string: "?garbage\r\n"))
        #expect(throws: RedisError.self) { try waiting.wait() }
        #expect(!channel.isActive)
    }

    @Test("a command unanswered past the timeout closes the connection; one answered in time does not")
    func watchdog() throws {
        let channel = try channel(timeout: .seconds(2))
        let answered = request(channel, ["PING"])
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1900))
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
        #expect(try answered.wait() == .status("PONG"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(channel.isActive, "nothing waits: no timeout")

        let stalled = request(channel, ["BLPOP", "x", "0"])
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(channel.isActive, "two seconds in, the check has not yet found it over the limit")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        #expect(channel.isActive, "found overdue once: the next check, after the socket is read, decides")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        #expect(!channel.isActive)
        #expect(throws: RedisError.self) { try stalled.wait() }
    }

    @Test("a reply that arrived while the loop itself was stalled is read before the watchdog judges Redis")
    func watchdogAfterOwnStall() throws {
        let channel = try channel(timeout: .seconds(2))
        let first = request(channel, ["PUBLISH", "c", "1"])
        let second = request(channel, ["PUBLISH", "c", "2"])
        // The loop was descheduled past the timeout: its check comes due before it reads
        // the socket, and finds both overdue.
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(2500))
        #expect(channel.isActive)
        // Then it reads what Redis answered meanwhile.
        try channel.writeInbound(ByteBuffer(string: ":1\r\n"))
        #expect(try first.wait() == .integer(1))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        #expect(channel.isActive, "a reply came since the last check: Redis is answering")
        try channel.writeInbound(ByteBuffer(string: ":1\r\n"))
        #expect(try second.wait() == .integer(1))
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive)
    }
}
