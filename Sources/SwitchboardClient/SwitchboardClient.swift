public import Logging
import NIOCore
public import ServiceLifecycle
public import SwiftProtobuf
public import SwitchboardWire
import Synchronization
import WSClient

/// One logical connection to a Switchboard cluster, kept open across drains, node
/// restarts and network failures. Run it (`run()`, or as a `Service` in a `ServiceGroup`),
/// then `send`, `call` and read `pushes` from any task:
///
/// ```swift
/// let client = SwitchboardClient(configuration: .init(urls: ["ws://127.0.0.1:8080/ws"], token: .fixed(token)))
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await client.run() }
///     let sent = try await client.call(.chatSend, .with { $0.to = "bob"; $0.text = "hi" })
///     for await push in client.pushes { print(push.kind, push.data) }
/// }
/// ```
///
/// Frames are protobuf (`switchboard.v1.proto`): typed calls carry the generated request
/// and response messages of `Protos/`. A call is sent once: one in flight when the
/// connection drops fails with `disconnected`, never resent.
public final class SwitchboardClient: Service, Sendable {
    public let configuration: SwitchboardClientConfiguration
    /// Every push to this client's user, in order, across reconnects; up to
    /// `pushBufferLimit` wait for the reader.
    public let pushes: AsyncStream<Push>
    /// Changes of the connection's state; the latest `stateBufferLimit` wait for the reader.
    public let stateChanges: AsyncStream<StateChange>
    /// Why the client's view may have missed pushes — the inbox no longer reaches back to
    /// the last position seen (trimmed or expired), or pushes were dropped because nobody
    /// read `pushes`: fetch current state from the backends when one arrives. The latest
    /// `stateBufferLimit` wait for the reader.
    public let resyncs: AsyncStream<String>
    /// How many state changes and resyncs wait for a reader; older ones give way.
    public static let stateBufferLimit = 64
    /// Pushes dropped because `pushes` was not read (see `pushBufferLimit`).
    public var droppedPushes: Int { dropped.load(ordering: .relaxed) }
    private let dropped = Atomic<Int>(0)
    /// Within a run of drops (one resync for it).
    private let dropping = Atomic<Bool>(false)
    let resyncSink: AsyncStream<String>.Continuation
    let logger: Logger
    let core = Mutex(ClientCore())
    let pushSink: AsyncStream<Push>.Continuation
    let stateSink: AsyncStream<StateChange>.Continuation

    public init(configuration: SwitchboardClientConfiguration, logger: Logger = Logger(label: "switchboard.client")) {
        self.configuration = configuration
        self.logger = logger
        (pushes, pushSink) = AsyncStream.makeStream(of: Push.self, bufferingPolicy: .bufferingOldest(max(configuration.pushBufferLimit, 1)))
        (stateChanges, stateSink) = AsyncStream.makeStream(of: StateChange.self, bufferingPolicy: .bufferingNewest(Self.stateBufferLimit))
        (resyncs, resyncSink) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(Self.stateBufferLimit))
        core.withLock { $0.position = configuration.position }
    }

    /// The connection's state now.
    public var state: ConnectionState { core.withLock { $0.state } }

    /// The current connection's welcome, or nil while there is none.
    public var welcome: Welcome? { core.withLock { $0.welcome } }

    /// Waits until the client is connected (or throws once it has stopped for good).
    @discardableResult
    public func connected() async throws -> Welcome {
        let id = core.withLock { $0.makeID() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let outcome: Result<Welcome, any Error>? = core.withLock { core in
                    if let welcome = core.welcome, core.state == .open { return .success(welcome) }
                    if core.stopped { return .failure(core.stopReason ?? .closed) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    core.waiters[id] = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            core.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    /// Sends `data` to every connection of user `to`; throws `offline`, `receiver_busy`, ….
    public func send(to user: String, data: Google_Protobuf_Value, kind: String? = nil, timeout: Duration? = nil) async throws -> SendOutcome {
        var frame = Switchboard_V1_ClientFrame()
        frame.send.to = user
        frame.send.data = data
        if let kind { frame.send.kind = kind }
        return SendOutcome(ok: try await exchange(frame, timeout: timeout).ok.structValue.fields)
    }

    /// Calls a backend route with its typed request; returns its typed response. The
    /// timeout (default `callTimeout`) is sent with the call, so the node and the backend
    /// give up when this client does.
    public func call<Request, Response>(_ route: Route<Request, Response>, _ request: Request, timeout: Duration? = nil) async throws -> Response {
        var frame = Switchboard_V1_ClientFrame()
        frame.call = route.name
        frame.payload = try request.serializedData()
        let (seconds, attoseconds) = (timeout ?? configuration.callTimeout).components
        frame.timeoutMs = UInt32(clamping: max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        let answer = try await exchange(frame, timeout: timeout)
        do {
            return try Response(serializedBytes: Array(answer.okPayload))
        } catch {
            throw SwitchboardClientError(code: "bad_frame", message: "the answer to \(route.name) is not a \(Response.protoMessageName): \(error)")
        }
    }

    /// Where `user` is connected.
    public func presence(of user: String, timeout: Duration? = nil) async throws -> PresenceAnswer {
        var frame = Switchboard_V1_ClientFrame()
        frame.presence.user = user
        let ok = try await exchange(frame, timeout: timeout).ok.structValue.fields
        let connections = ok["connections"]?.listValue.values.map(PresenceAnswer.Connection.init) ?? []
        return PresenceAnswer(
            user: ok["user"]?.stringValue ?? user, online: ok["online"]?.boolValue ?? false,
            connections: connections, count: Int(ok["count"]?.numberValue ?? Double(connections.count))
        )
    }

    /// A round trip to the node; returns the node's id.
    @discardableResult
    public func ping(timeout: Duration? = nil) async throws -> String {
        var frame = Switchboard_V1_ClientFrame()
        frame.ping = .init()
        return try await exchange(frame, timeout: timeout).ok.structValue.fields["node"]?.stringValue ?? ""
    }

    /// Stops for good: calls in flight fail with `closed`, `run()` returns, nothing reconnects.
    public func close() {
        stop(StateChange(.closed, reason: "closed by the application"), error: .closed)
    }

    // MARK: - Calls

    /// Sends `frame` with a fresh id once the client is connected, and returns the answer;
    /// throws the node's error, `timeout`, or `disconnected`.
    func exchange(_ frame: Switchboard_V1_ClientFrame, timeout: Duration?) async throws -> Switchboard_V1_ServerFrame {
        let timeout = timeout ?? configuration.callTimeout
        let answer = try await withThrowingTaskGroup(of: Switchboard_V1_ServerFrame.self) { group in
            group.addTask { try await self.exchangeUntimed(frame) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw SwitchboardClientError(code: "timeout", message: "no answer within \(timeout)")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        if case .error(let error) = answer.body { throw SwitchboardClientError(code: error.code, message: error.message) }
        return answer
    }

    private func exchangeUntimed(_ frame: Switchboard_V1_ClientFrame) async throws -> Switchboard_V1_ServerFrame {
        try await connected()
        var frame = frame
        let id = String(core.withLock { $0.makeID() })
        frame.id = id
        let bytes = try frame.serializedBytes() as [UInt8]
        // The node would close the connection (1009) over it, failing every other call too.
        if let limit = core.withLock({ $0.welcome?.limits?.maxFrameBytes }), bytes.count > limit {
            throw SwitchboardClientError(code: "frame_too_large", message: "the frame is \(bytes.count) bytes; the node takes at most \(limit)")
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let failure: (any Error)? = core.withLock { core in
                    if Task.isCancelled { return CancellationError() }
                    guard core.state == .open, let outbox = core.outbox else { return SwitchboardClientError.disconnected }
                    core.pending[id] = continuation
                    outbox.yield(.binary(.init(bytes: bytes)))
                    return nil
                }
                if let failure { continuation.resume(throwing: failure) }
            }
        } onCancel: {
            core.withLock { $0.pending.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    // MARK: - State

    /// Hands a push to the application; one that finds the buffer full is dropped and the
    /// application told to resync (once per run of drops).
    func deliver(_ push: Push) {
        switch pushSink.yield(push) {
        case .dropped:
            dropped.add(1, ordering: .relaxed)
            guard !dropping.exchange(true, ordering: .relaxed) else { return }
            logger.error("pushes dropped: the application does not read `pushes`", metadata: ["limit": "\(configuration.pushBufferLimit)"])
            resyncSink.yield("pushes were dropped because `pushes` was not read (more than \(configuration.pushBufferLimit) waiting); fetch current state from the backends")
        default:
            dropping.store(false, ordering: .relaxed)
        }
    }

    func setState(_ change: StateChange) {
        core.withLock { $0.state = change.state }
        stateSink.yield(change)
    }

    /// Ends the client: waiting callers and calls in flight fail with `error`.
    func stop(_ change: StateChange, error: SwitchboardClientError) {
        typealias Taken = (
            pending: [String: CheckedContinuation<Switchboard_V1_ServerFrame, any Error>],
            waiters: [UInt64: CheckedContinuation<Welcome, any Error>],
            sleepers: [UInt64: CheckedContinuation<Void, Never>],
            outbox: AsyncStream<WebSocketOutboundWriter.OutboundFrame>.Continuation?
        )
        let taken: Taken? = core.withLock { core in
            guard !core.stopped else { return nil }
            core.stopped = true
            core.stopReason = error
            core.state = .closed
            core.welcome = nil
            defer {
                core.pending = [:]
                core.waiters = [:]
                core.sleepers = [:]
                core.outbox = nil
            }
            return (core.pending, core.waiters, core.sleepers, core.outbox)
        }
        guard let taken else { return }
        for continuation in taken.pending.values { continuation.resume(throwing: error) }
        for continuation in taken.waiters.values { continuation.resume(throwing: error) }
        for continuation in taken.sleepers.values { continuation.resume() }
        taken.outbox?.finish()
        stateSink.yield(change)
        stateSink.finish()
        pushSink.finish()
        resyncSink.finish()
    }

    var isStopped: Bool { core.withLock { $0.stopped } }

    /// Sleeps for `delay`, or less when the client stops or the task is cancelled meanwhile.
    /// Whoever takes the sleeper out of `core` (the timer, `stop`, the cancellation) wakes it.
    func pause(for delay: Duration) async {
        let id = core.withLock { $0.makeID() }
        let wake: @Sendable () -> Void = { self.core.withLock { $0.sleepers.removeValue(forKey: id) }?.resume() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = core.withLock { core -> Bool in
                    if core.stopped || Task.isCancelled { return true }
                    core.sleepers[id] = continuation
                    return false
                }
                if now { return continuation.resume() }
                Task {
                    try? await Task.sleep(for: delay)
                    wake()
                }
            }
        } onCancel: {
            wake()
        }
    }
}
