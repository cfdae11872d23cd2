import HTTPTypes
import Logging
import NIOCore
import NIOWebSocket
import ServiceLifecycle
import SwiftProtobuf
import SwitchboardWire
import Synchronization
import WSClient

/// The connection loop: connect, serve one socket until it ends, decide what its end
/// means (at once to the next node after a drain, back off after a failure, stop after an
/// authentication refusal with a fixed token or a close that says not to come back).
extension SwitchboardClient {
    /// How one socket ended.
    enum ConnectionEnd {
        /// The node closed it (or it dropped: 1006); `welcomed` if it had been open.
        case closed(code: Int, reason: String, welcomed: Bool)
        /// The upgrade was refused; the refusal, when the node could say why.
        case refused(UpgradeRefusal?)
    }

    /// Close codes after which coming back would not help (docs/protocol.md § Close codes).
    static let finalCloseCodes = Set(CloseCode.allCases.filter(\.isFinal).map(\.rawValue))

    /// Runs the connection until `close()`, cancellation or — in a `ServiceGroup` — a
    /// graceful shutdown, which closes the socket cleanly (1000) and returns.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await connectionLoop()
        } onGracefulShutdown: {
            self.stop(StateChange(.closed, reason: "graceful shutdown"), error: .closed)
        }
    }

    private func connectionLoop() async throws {
        let urls = configuration.urls
        var index = 0
        var attempt = 0
        var freshToken = false
        var random = SystemRandomNumberGenerator()
        setState(StateChange(.connecting, url: urls[0]))
        while !isStopped && !Task.isCancelled {
            let url = urls[index]
            let token: String
            do {
                token = try await currentToken(fresh: freshToken)
            } catch {
                let delay = configuration.backoff.delay(attempt: attempt, using: &random)
                attempt += 1
                setState(StateChange(.reconnecting, reason: "the token provider failed: \(error)", url: url, delay: delay))
                await pause(for: delay)
                continue
            }
            freshToken = false
            let end = await serve(url: url, token: token)
            guard !isStopped else { break }
            var immediate = false
            let code: Int?
            let reason: String?
            switch end {
            case .refused(let refusal):
                code = refusal?.status
                reason = refusal.map { "\($0.code): \($0.message)" } ?? "the upgrade failed"
                switch refusal?.status {
                case 401:
                    guard case .provider = configuration.token else {
                        let message = "authentication refused: \(refusal?.message ?? "")"
                        stop(StateChange(.closed, code: 401, reason: message), error: SwitchboardClientError(code: "unauthenticated", message: message))
                        return
                    }
                    freshToken = true  // never the same token again
                case 403:
                    // Refused for what the client is (an origin the node does not allow).
                    let message = "refused: \(refusal?.message ?? "")"
                    stop(StateChange(.closed, code: 403, reason: message), error: SwitchboardClientError(code: refusal?.code ?? "closed", message: message))
                    return
                case 503:
                    index = (index + 1) % urls.count
                    immediate = attempt < urls.count
                default:
                    index = (index + 1) % urls.count
                }
            case .closed(let closeCode, let closeReason, let welcomed):
                code = closeCode
                reason = closeReason
                if welcomed { attempt = 0 }
                if closeCode == CloseCode.tokenExpired.rawValue {
                    // The token expired before a fresh one reached the node.
                    guard case .provider = configuration.token else {
                        let message = "token expired: \(closeReason)"
                        stop(StateChange(.closed, code: closeCode, reason: message), error: SwitchboardClientError(code: "closed", message: message))
                        return
                    }
                    freshToken = true
                    setState(StateChange(.reconnecting, code: closeCode, reason: closeReason, url: urls[index], delay: .zero))
                    continue
                }
                if Self.finalCloseCodes.contains(closeCode) {
                    let message = "closed by the node (\(closeCode)): \(closeReason)"
                    stop(StateChange(.closed, code: closeCode, reason: closeReason), error: SwitchboardClientError(code: "closed", message: message))
                    return
                }
                index = (index + 1) % urls.count
                // A drain: another node at once (round the list once before backing off).
                immediate = closeCode == CloseCode.serviceRestart.rawValue && (welcomed || attempt < urls.count)
            }
            let delay = immediate ? Duration.zero : configuration.backoff.delay(attempt: attempt, using: &random)
            attempt += 1
            setState(StateChange(.reconnecting, code: code, reason: reason, url: urls[index], delay: delay))
            if delay > .zero { await pause(for: delay) }
        }
        stop(StateChange(.closed, reason: Task.isCancelled ? "run() was cancelled" : "closed by the application"), error: .closed)
    }

    private func currentToken(fresh: Bool) async throws -> String {
        switch configuration.token {
        case .fixed(let token): token
        case .provider(let provide): try await provide(fresh)
        }
    }

    /// Serves one socket: reads frames, writes what callers queue, watches for the welcome
    /// and the heartbeat; returns how it ended.
    private func serve(url: String, token: String) async -> ConnectionEnd {
        var settings = WebSocketClientConfiguration(maxFrameSize: 1 << 24, closeTimeout: .seconds(2), autoPing: .disabled, validateUTF8: true)
        for (name, value) in configuration.headers {
            if let field = HTTPField.Name(name) { settings.additionalHeaders[field] = value }
        }
        settings.additionalHeaders[.authorization] = "Bearer \(token)"
        settings.additionalHeaders[.secWebSocketProtocol] = WireFormat.protobuf.subprotocol
        let welcomed = OnceFlag()
        defer { disconnected() }
        do {
            let close = try await WebSocketClient.connect(
                url: resumeURL(url), configuration: settings, tlsConfiguration: configuration.tls, logger: logger
            ) { inbound, outbound, _ in
                let (outbox, sink) = AsyncStream.makeStream(of: WebSocketOutboundWriter.OutboundFrame.self)
                self.core.withLock { $0.outbox = sink }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in inbound.messages(maxSize: 1 << 24) {
                            self.receive(message, welcomed: welcomed)
                        }
                    }
                    group.addTask {
                        for await frame in outbox { try await outbound.write(frame) }
                        // The outbox ends when the client is closed.
                        try await outbound.close(.normalClosure, reason: "client closed")
                    }
                    group.addTask { try await self.keepTokenFresh() }
                    group.addTask {
                        if try await !self.watch(welcomed: welcomed) {
                            try await outbound.close(.init(codeNumber: 4000), reason: "no answer")
                        }
                    }
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
            let code = close.map { Int(UInt16(webSocketErrorCode: $0.closeCode)) } ?? 1006
            return .closed(code: code, reason: close?.reason ?? "", welcomed: welcomed.isSet)
        } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
            return .refused(await UpgradeRefusal.probe(url: url, token: token, tls: configuration.tls, headers: configuration.headers))
        } catch {
            logger.debug("connection failed", metadata: ["url": "\(url)", "error": "\(error)"])
            return .closed(code: 1006, reason: "\(error)", welcomed: welcomed.isSet)
        }
    }

    /// Waits for the welcome within `connectTimeout`, then pings every `heartbeatInterval`;
    /// false when either goes unanswered (the socket is then given up), true when it ends.
    private func watch(welcomed: OnceFlag) async throws -> Bool {
        guard try await welcome(within: configuration.connectTimeout) else { return false }
        guard let interval = configuration.heartbeatInterval else {
            try await Task.sleep(for: .seconds(365 * 86_400))
            return true
        }
        while true {
            try await Task.sleep(for: interval)
            do {
                try await ping(timeout: interval)
            } catch let error as SwitchboardClientError where error.code == "timeout" {
                return false
            } catch let error as SwitchboardClientError where error.code == "disconnected" || error.code == "closed" {
                return true
            }
        }
    }

    /// Waits for this socket's welcome (there is one socket at a time); false when
    /// `limit` passed first. A client stopped meanwhile counts as welcomed: it ends anyway.
    func welcome(within limit: Duration) async throws -> Bool {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await self.connected()
                } catch is SwitchboardClientError {}  // stopped: nothing to wait for
                return true
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return false
            }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
    }

    private func receive(_ message: WebSocketMessage, welcomed: OnceFlag) {
        let frame: Switchboard_V1_ServerFrame
        do {
            switch message {
            case .binary(let bytes): frame = try Switchboard_V1_ServerFrame(serializedBytes: Array(bytes.readableBytesView))
            case .text(let text): frame = try Switchboard_V1_ServerFrame(jsonString: text)
            }
        } catch {
            logger.warning("undecodable frame from the node", metadata: ["error": "\(error)"])
            return
        }
        switch frame.body {
        case .welcome(let body):
            let inbox = InboxState(
                position: .init(body.inbox.position), resumed: body.inbox.resumed, recovered: body.inbox.recovered,
                replayed: Int(body.inbox.replayed)
            )
            let welcome = Welcome(
                connection: body.connection, node: body.node, user: body.user, inbox: inbox,
                tokenExpiresAtMs: body.tokenExpiresAtMs == 0 ? nil : body.tokenExpiresAtMs,
                limits: body.hasLimits && body.limits.maxFrameBytes > 0 ? Limits(body.limits) : nil, topics: body.topics
            )
            let waiters = core.withLock { core in
                core.welcome = welcome
                core.state = .open
                core.gap = nil
                if body.hasInbox { core.position = inbox.position }
                defer { core.waiters = [:] }
                return core.waiters
            }
            welcomed.set()
            if inbox.resumed && !inbox.recovered {
                resyncSink.yield("the inbox no longer reaches back to the last position seen; fetch current state from the backends")
            }
            stateSink.yield(StateChange(.open, url: nil))
            for waiter in waiters.values { waiter.resume(returning: welcome) }
            resubscribe()
        case .push(let push):
            received(Push(push))
        case .ok, .okPayload, .error, nil:
            core.withLock { $0.pending.removeValue(forKey: frame.id) }?.resume(returning: frame)
        }
    }

    /// The socket is gone: calls in flight fail (`disconnected`), nothing is resent.
    private func disconnected() {
        let pending = core.withLock { core in
            core.outbox?.finish()
            core.outbox = nil
            core.welcome = nil
            if core.state == .open { core.state = .reconnecting }
            defer { core.pending = [:] }
            return core.pending
        }
        for continuation in pending.values { continuation.resume(throwing: SwitchboardClientError.disconnected) }
    }
}
