package import Logging
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The one subscriber connection: SUBSCRIBEs to a fixed set of channels on its own
/// thread and hands every message to `onMessage`, in order. When the connection breaks
/// it reconnects with backoff and subscribes again, unprompted; `onState` learns each
/// change. (hiredis 0.14 misroutes PING replies in subscribe mode, so liveness comes from
/// the socket itself and from messages on the node's own channel.)
package final class RedisSubscriber: Sendable {
    package typealias MessageHandler = @Sendable (_ channel: String, _ payload: [UInt8]) -> Void
    package typealias StateHandler = @Sendable (_ subscribed: Bool) -> Void

    package let endpoint: RedisEndpoint
    private let channels: [String]
    private let onMessage: MessageHandler
    private let onState: StateHandler
    private let logger: Logger
    private let thread = NIOThreadPool(numberOfThreads: 1)
    private let stopped = Atomic<Bool>(false)
    private let subscribed = Atomic<Bool>(false)
    /// The socket of the live context, so that `stop()` can interrupt a blocking read.
    private let socket = Atomic<Int32>(-1)

    package init(endpoint: RedisEndpoint, channels: [String], logger: Logger, onMessage: @escaping MessageHandler, onState: @escaping StateHandler = { _ in }) {
        self.endpoint = endpoint
        self.channels = channels
        self.onMessage = onMessage
        self.onState = onState
        self.logger = logger
    }

    package var isSubscribed: Bool { subscribed.load(ordering: .relaxed) }

    package func start() {
        thread.start()
        thread.submit { _ in self.loop() }
    }

    /// Ends the loop without waiting for it: the blocking read is interrupted by shutting
    /// the socket down, and the thread exits on its own.
    package func stop() {
        stopped.store(true, ordering: .relaxed)
        let fd = socket.load(ordering: .relaxed)
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        thread.shutdownGracefully { _ in }
    }

    private func loop() {
        var backoff: Duration = .milliseconds(50)
        while !stopped.load(ordering: .relaxed) {
            do {
                let context = try HiredisContext(endpoint: endpoint, connectTimeout: .seconds(1))
                socket.store(context.fileDescriptor, ordering: .relaxed)
                try context.append([Array("SUBSCRIBE".utf8)] + channels.map { Array($0.utf8) })
                for _ in channels { _ = try context.nextReply() }
                backoff = .milliseconds(50)
                setSubscribed(true)
                while !stopped.load(ordering: .relaxed) {
                    guard case .array(let parts) = try context.nextReply(), parts.count == 3,
                          parts[0].string == "message", let channel = parts[1].string, case .string(let payload) = parts[2]
                    else { continue }
                    onMessage(channel, payload)
                }
            } catch {
                socket.store(-1, ordering: .relaxed)
                setSubscribed(false)
                guard !stopped.load(ordering: .relaxed) else { return }
                logger.warning("redis subscriber disconnected; retrying", metadata: ["redis": "\(endpoint)", "error": "\(error)"])
                Self.sleep(backoff)
                backoff = min(backoff * 2, .seconds(1))
            }
        }
        setSubscribed(false)
    }

    private func setSubscribed(_ value: Bool) {
        if subscribed.exchange(value, ordering: .relaxed) != value {
            if value { logger.info("redis subscribed", metadata: ["channels": "\(channels)"]) }
            onState(value)
        }
    }

    /// Blocking sleep: this is the subscriber's own thread, never a shared one.
    private static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        usleep(UInt32(seconds) * 1_000_000 + UInt32(attoseconds / 1_000_000_000_000))
    }
}
