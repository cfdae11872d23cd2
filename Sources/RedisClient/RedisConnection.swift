package import Logging
import NIOPosix
import Synchronization

/// A pipelined command connection to Redis.
///
/// Callers never block: commands queue up, and the connection's own thread — the only
/// one that touches its hiredis context — writes everything queued in one go, then reads
/// the replies in order. While one batch is on the wire the next one gathers, so load
/// pipelines by itself. After an error the context is dropped; the next batch reconnects,
/// and while Redis stays unreachable commands fail at once (with backoff between tries).
package final class RedisConnection: Sendable {
    package let endpoint: RedisEndpoint
    private let thread: NIOThreadPool
    private let state = Mutex(State())
    private let confined = Confined()
    private let logger: Logger
    private let connectTimeout: Duration
    private let commandTimeout: Duration
    /// Counts successful connects: a change means Redis may have lost what we wrote.
    private let generationCounter = Atomic<UInt64>(0)
    private let connected = Atomic<Bool>(false)

    private struct Pending {
        let arguments: [[UInt8]]
        let continuation: CheckedContinuation<RedisReply, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var draining = false
        var closed = false
    }

    /// What only the connection's thread touches.
    private final class Confined: @unchecked Sendable {
        var context: HiredisContext?
        var nextAttempt = ContinuousClock.now
        var backoff: Duration = .milliseconds(50)
    }

    package init(endpoint: RedisEndpoint, logger: Logger, connectTimeout: Duration = .seconds(1), commandTimeout: Duration = .seconds(2)) {
        self.endpoint = endpoint
        self.logger = logger
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    deinit {
        // Never wait here: the last reference may be dropped on the connection's own thread.
        thread.shutdownGracefully { _ in }
    }

    package var isConnected: Bool { connected.load(ordering: .relaxed) }
    package var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    package func send(_ arguments: String...) async throws -> RedisReply {
        try await send(arguments.map { Array($0.utf8) })
    }

    package func send(_ arguments: [String]) async throws -> RedisReply {
        try await send(arguments.map { Array($0.utf8) })
    }

    /// Sends one command (binary-safe arguments); an error reply throws `RedisError.server`.
    package func send(_ arguments: [[UInt8]]) async throws -> RedisReply {
        let reply = try await withCheckedThrowingContinuation { continuation in
            let startDrain = state.withLock { state -> Bool? in
                guard !state.closed else { return nil }
                state.pending.append(Pending(arguments: arguments, continuation: continuation))
                if state.draining { return false }
                state.draining = true
                return true
            }
            switch startDrain {
            case nil: continuation.resume(throwing: RedisError.closed)
            case true?: thread.submit { _ in self.drain() }
            case false?: break
            }
        }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// Fails what is queued and stops; later commands fail with `.closed`, and the
    /// connection's thread ends once a batch in progress is done (without waiting here).
    package func close() {
        let pending = state.withLock { state -> [Pending] in
            state.closed = true
            defer { state.pending = [] }
            return state.pending
        }
        pending.forEach { $0.continuation.resume(throwing: RedisError.closed) }
        thread.shutdownGracefully { _ in }
    }

    /// Runs on the connection's thread until nothing is queued.
    private func drain() {
        while true {
            let batch = state.withLock { state -> [Pending] in
                if state.pending.isEmpty { state.draining = false }
                defer { state.pending = [] }
                return state.pending
            }
            if batch.isEmpty { return }
            run(batch)
        }
    }

    private func run(_ batch: [Pending]) {
        let context: HiredisContext
        do {
            context = try ensureContext()
        } catch {
            batch.forEach { $0.continuation.resume(throwing: error) }
            return
        }
        var failure: RedisError?
        for command in batch {
            do {
                try context.append(command.arguments)
            } catch {
                failure = error
                break
            }
        }
        for command in batch {
            if let failure {
                command.continuation.resume(throwing: failure)
                continue
            }
            do {
                command.continuation.resume(returning: try context.nextReply())
            } catch {
                failure = error
                command.continuation.resume(throwing: error)
            }
        }
        if let failure { drop(failure) }
    }

    private func ensureContext() throws(RedisError) -> HiredisContext {
        if let context = confined.context { return context }
        guard ContinuousClock.now >= confined.nextAttempt else {
            throw .unavailable("\(endpoint) is unreachable; retrying in \(confined.nextAttempt - ContinuousClock.now)")
        }
        do {
            let context = try HiredisContext(endpoint: endpoint, connectTimeout: connectTimeout)
            context.setTimeout(commandTimeout)
            confined.context = context
            confined.backoff = .milliseconds(50)
            generationCounter.add(1, ordering: .releasing)
            connected.store(true, ordering: .relaxed)
            logger.info("redis connected", metadata: ["redis": "\(endpoint)"])
            return context
        } catch {
            confined.nextAttempt = ContinuousClock.now.advanced(by: confined.backoff)
            confined.backoff = min(confined.backoff * 2, .seconds(1))
            throw error
        }
    }

    /// A hiredis context is dead after any error: drop it; the next batch reconnects.
    private func drop(_ error: RedisError) {
        if confined.context != nil {
            logger.warning("redis connection lost", metadata: ["redis": "\(endpoint)", "error": "\(error)"])
        }
        confined.context = nil
        connected.store(false, ordering: .relaxed)
    }
}
