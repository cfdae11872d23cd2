import Bench
import NIOCore
import NIOEmbedded
import Testing

/// The delay proxy's handler on virtual time: bytes are held for the delay that held when
/// they arrived, leave in the order they came, and a shrunk delay reorders nothing.
@Suite("Delay proxy handler")
struct DelayHandlerTests {
    /// `from` reads, `to` is its peer; both on one embedded loop.
    private func link(_ delay: LinkDelay) throws -> (loop: EmbeddedEventLoop, from: EmbeddedChannel, to: EmbeddedChannel) {
        let loop = EmbeddedEventLoop()
        let to = EmbeddedChannel(loop: loop)
        let from = EmbeddedChannel(handler: DelayHandler(peer: to, delay: delay), loop: loop)
        try from.connect(to: .init(ipAddress: "127.0.0.1", port: 1)).wait()
        try to.connect(to: .init(ipAddress: "127.0.0.1", port: 2)).wait()
        return (loop, from, to)
    }

    private func forwarded(_ channel: EmbeddedChannel) throws -> [String] {
        var chunks: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { chunks.append(String(buffer: buffer)) }
        return chunks
    }

    /// The last auto-read an embedded channel was set to (its `getOption` always says true).
    private func autoRead(_ channel: EmbeddedChannel) -> Bool? {
        channel.options.last { $0.option is ChannelOptions.Types.AutoReadOption }?.value as? Bool
    }

    @Test("each chunk leaves when its own delay has passed, not before, in order")
    func heldForTheDelay() throws {
        let (loop, from, to) = try link(LinkDelay(milliseconds: 200))
        try from.writeInbound(ByteBuffer(string: "one"))
        loop.advanceTime(by: .milliseconds(100))
        try from.writeInbound(ByteBuffer(string: "two"))
        loop.advanceTime(by: .milliseconds(99))
        #expect(try forwarded(to) == [])
        loop.advanceTime(by: .milliseconds(1))
        #expect(try forwarded(to) == ["one"])
        loop.advanceTime(by: .milliseconds(99))
        #expect(try forwarded(to) == [])
        loop.advanceTime(by: .milliseconds(1))
        #expect(try forwarded(to) == ["two"])
    }

    @Test("with no delay bytes pass at once; switched on and off, later bytes never overtake earlier ones")
    func switchedWhileOpen() throws {
        let delay = LinkDelay()
        let (loop, from, to) = try link(delay)
        try from.writeInbound(ByteBuffer(string: "at once"))
        #expect(try forwarded(to) == ["at once"])
        delay.set(milliseconds: 200)
        try from.writeInbound(ByteBuffer(string: "held"))
        delay.set(milliseconds: 0)
        try from.writeInbound(ByteBuffer(string: "behind it"))
        #expect(try forwarded(to) == [], "the second waits behind the first")
        loop.advanceTime(by: .milliseconds(200))
        #expect(try forwarded(to) == ["held", "behind it"])
        try from.writeInbound(ByteBuffer(string: "after"))
        #expect(try forwarded(to) == ["after"])
    }

    @Test("the end of one side reaches the other after what it sent, delayed like it")
    func endIsDelayed() throws {
        let (loop, from, to) = try link(LinkDelay(milliseconds: 50))
        try from.writeInbound(ByteBuffer(string: "last words"))
        from.pipeline.fireChannelInactive()
        loop.advanceTime(by: .milliseconds(49))
        #expect(to.isActive)
        loop.advanceTime(by: .milliseconds(1))
        #expect(try forwarded(to) == ["last words"])
        #expect(!to.isActive)
    }

    @Test("a side that cannot write stops its peer's reads until it can again")
    func backpressure() throws {
        let (_, from, to) = try link(LinkDelay())
        // `to`'s handler forwards to `from`: `to` unwritable stops `from` reading.
        try to.pipeline.syncOperations.addHandler(DelayHandler(peer: from, delay: LinkDelay()))
        to.isWritable = false
        to.pipeline.fireChannelWritabilityChanged()
        #expect(autoRead(from) == false)
        to.isWritable = true
        to.pipeline.fireChannelWritabilityChanged()
        #expect(autoRead(from) == true)
    }
}
