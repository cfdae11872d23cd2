import Essentials
package import Logging
package import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A pipelined command connection to Redis, owned by one event loop.
///
/// NIO owns the socket; `RESPHandler` parses replies with hiredis' reader. Commands are
/// written as they come and flushed once per loop tick, so everything issued while the
/// loop handles one batch of reads goes out in one write (pipelining without waiting).
/// Callers on the connection's own loop pay no thread hop. The socket connects on first
/// use and after a loss; while Redis is unreachable, commands fail at once, and the next
/// try waits a jittered backoff (50 ms doubling to 1 s). Behind sentinels each connect
/// asks them for the primary first, so a failover is followed by reconnecting.
package final class RedisConnection: Sendable {
    package let endpoint: RedisEndpoint
    /// `rediss://`: the TLS context every new socket starts with (made once).
    private let tls: Result<NIOSSLContext?, any Error>
    package let eventLoop: any EventLoop
    private let logger: Logger
    private let connectTimeout: TimeAmount
    private let commandTimeout: TimeAmount
    /// Touched only on `eventLoop`.
    private let state: NIOLoopBoundBox<State>
    /// Counts successful connects: a change means Redis may have lost what we wrote.
    private let generationCounter = Atomic<UInt64>(0)
    private let connected = Atomic<Bool>(false)

    private struct State {
        var channel: (any Channel)?
        var connecting = false
        /// Commands issued while the socket connects.
        var parked: [RESPHandler.Request] = []
        var nextAttempt = NIODeadline.uptimeNanoseconds(0)
        var backoff = TimeAmount.milliseconds(50)
        var flushScheduled = false
        var closed = false
    }

    package init(
        endpoint: RedisEndpoint, eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(), logger: Logger,
        connectTimeout: Duration? = nil, commandTimeout: Duration? = nil
    ) {
        self.endpoint = endpoint
        self.eventLoop = eventLoop
        self.logger = logger
        self.connectTimeout = TimeAmount(connectTimeout ?? endpoint.connectTimeout)
        self.commandTimeout = TimeAmount(commandTimeout ?? endpoint.commandTimeout)
        state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: eventLoop)
        tls = Result { try endpoint.makeTLSContext() }
    }

    package var isConnected: Bool { connected.load(ordering: .relaxed) }
    package var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    /// Sends one command and awaits its reply: the form for everything but the hot path
    /// (the text forms below are shorthand for it). An error reply throws `RedisError.server`.
    package func send(_ arguments: [[UInt8]]) async throws -> RedisReply {
        let command = RedisCommand(arguments)
        let reply = try await withCheckedThrowingContinuation { continuation in
            send(command) { continuation.resume(with: $0) }
        }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    package func send(_ arguments: String...) async throws -> RedisReply {
        try await send(arguments.map { Array($0.utf8) })
    }

    package func send(_ arguments: [String]) async throws -> RedisReply {
        try await send(arguments.map { Array($0.utf8) })
    }

    /// Called on the connection's loop with a command's reply (an error reply is a
    /// `.error` value, not a failure).
    package typealias Completion = @Sendable (Result<RedisReply, RedisError>) -> Void

    /// Sends a formatted command from any thread; `completion` runs on `eventLoop`. The
    /// hot path's form: no task, future or continuation to allocate.
    package func send(_ command: RedisCommand, completion: @escaping Completion) {
        let request = RESPHandler.Request(command: command, reply: completion)
        if eventLoop.inEventLoop {
            submit(request)
        } else {
            eventLoop.execute { self.submit(request) }
        }
    }

    /// Fails what waits and stops; later commands fail with `.closed`.
    package func close() {
        eventLoop.execute {
            self.state.value.closed = true
            let parked = self.state.value.parked
            self.state.value.parked = []
            parked.forEach { $0.reply?(.failure(.closed)) }
            self.state.value.channel?.close(promise: nil)
        }
    }

    private func submit(_ request: RESPHandler.Request) {
        if state.value.closed {
            request.reply?(.failure(.closed))
        } else if let channel = state.value.channel {
            channel.write(request, promise: nil)
            scheduleFlush()
        } else if state.value.connecting {
            state.value.parked.append(request)
        } else if eventLoop.now < state.value.nextAttempt {
            let wait = (state.value.nextAttempt - eventLoop.now).nanoseconds / 1_000_000
            request.reply?(.failure(.unavailable("\(endpoint) is unreachable; retrying in \(wait) ms")))
        } else {
            state.value.parked.append(request)
            connect()
        }
    }

    /// One flush per loop tick, after every command the tick produced is written.
    private func scheduleFlush() {
        guard !state.value.flushScheduled else { return }
        state.value.flushScheduled = true
        eventLoop.execute {
            self.state.value.flushScheduled = false
            self.state.value.channel?.flush()
        }
    }

    private func connect() {
        state.value.connecting = true
        let commandTimeout = self.commandTimeout
        endpoint.connect(on: eventLoop, tls: tls, timeout: connectTimeout) { RESPHandler(commandTimeout: commandTimeout) }
            .whenComplete { result in self.connected(result) }
    }

    /// Signs in (AUTH, SELECT) before anything else is sent; commands wait parked meanwhile.
    /// A refusal closes the socket and fails them with Redis' own words.
    private func connected(_ result: Result<any Channel, any Error>) {
        guard case .success(let channel) = result, !state.value.closed, !endpoint.handshake.isEmpty else {
            return ready(result)
        }
        let commands = endpoint.handshake
        let remaining = NIOLoopBoundBox(commands.count, eventLoop: eventLoop)
        for command in commands {
            let request = RESPHandler.Request(command: RedisCommand(command)) { reply in
                guard remaining.value > 0 else { return }
                switch reply {
                case .success(.error(let message)):
                    remaining.value = 0
                    channel.close(promise: nil)
                    self.ready(.failure(RedisError.server("redis refused \(command[0]) for \(self.endpoint): \(message)")))
                case .failure(let error):
                    remaining.value = 0
                    self.ready(.failure(error))
                case .success(let reply) where command == ["ROLE"] && !RedisEndpoint.isPrimary(reply):
                    remaining.value = 0
                    channel.close(promise: nil)
                    self.ready(.failure(RedisError.unavailable("\(channel.remoteAddress.map { "\($0)" } ?? "the server") is not the primary yet; asking the sentinels again")))
                case .success:
                    remaining.value -= 1
                    if remaining.value == 0 { self.ready(.success(channel)) }
                }
            }
            channel.write(request, promise: nil)
        }
        channel.flush()
    }

    private func ready(_ result: Result<any Channel, any Error>) {
        state.value.connecting = false
        let parked = state.value.parked
        state.value.parked = []
        switch result {
        case .success(let channel):
            if state.value.closed {
                channel.close(promise: nil)
                parked.forEach { $0.reply?(.failure(.closed)) }
                return
            }
            state.value.channel = channel
            state.value.backoff = .milliseconds(50)
            generationCounter.add(1, ordering: .releasing)
            connected.store(true, ordering: .relaxed)
            logger.info("redis connected", metadata: ["redis": "\(endpoint)"])
            channel.closeFuture.whenComplete { _ in self.lost(channel) }
            for request in parked { channel.write(request, promise: nil) }
            channel.flush()
        case .failure(let error):
            let backoff = state.value.backoff
            // Full jitter between half and all of the backoff, so nodes do not retry in step.
            let jittered = TimeAmount.nanoseconds(Int64.random(in: backoff.nanoseconds / 2...backoff.nanoseconds))
            state.value.nextAttempt = eventLoop.now + jittered
            state.value.backoff = min(backoff * 2, .seconds(1))
            let failure = error as? RedisError ?? RedisError.unavailable("\(endpoint): \(error)")
            if case .server(let message) = failure { logger.error("\(message)") }
            parked.forEach { $0.reply?(.failure(failure)) }
        }
    }

    private func lost(_ channel: any Channel) {
        guard state.value.channel === channel else { return }
        state.value.channel = nil
        connected.store(false, ordering: .relaxed)
        if !state.value.closed {
            logger.warning("redis connection lost", metadata: ["redis": "\(endpoint)"])
        }
    }
}
