import Routing
import SwitchboardProtocol
import CoreMetrics
import Logging
import NIOCore
import NIOWebSocket

/// The read side of a client connection, on its event loop. Frames that await nothing
/// (send, ping) are handled right here; the rest go into the session's work queue, which
/// a task works through in order only while there is work — joining the node, presence lookups,
/// leaving — so an idle connection holds no task. Backend calls run beside it.
/// It also answers the WebSocket control frames and turns protocol errors into close
/// codes (1009, 1007, 1002).
final class ClientChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let session: ClientSession
    private let work: SessionWork
    private var closing = false
    private var closeTimer: Scheduled<Void>?
    /// The latest ping's payload, answered once the socket is writable again.
    private var pendingPong: ByteBuffer?
    private var limiter: RateLimiter
    /// The wire frames' checker; counts the fragments of each message for the limiter.
    private let rules = FrameRules()

    init(services: SessionServices, accepted: Handshake.Accepted, channel: any Channel) {
        let id = services.connectionIDs.next()
        var logger = services.logger
        logger[metadataKey: "connection"] = "\(id)"
        logger[metadataKey: "user"] = "\(accepted.user)"
        let pump = PumpSlot(eventLoop: channel.eventLoop)
        let queue = OutboundQueue(maxMessages: services.configuration.queueMessages, maxBytes: services.configuration.queueBytes) {
            pump.wake()
        }
        let connection = ClientConnection(
            id: id, user: accepted.user, format: accepted.format, queue: queue, pumpSlot: pump, channel: channel,
            metrics: services.metrics, logger: logger
        )
        connection.isAdmin = accepted.isAdmin
        connection.topics.grants = accepted.topics
        session = ClientSession(connection: connection, services: services, logger: logger, resumeFrom: accepted.resumeFrom)
        connection.tokenExpiry.set(expiresAtMs: accepted.tokenExpiresAtMs)
        work = SessionWork(session: session)
        // Weak: the work holds the session, which holds the connection.
        connection.onServerSubscription { [weak work] topic, subscribe in
            work?.push(.serverTopic(topic, subscribe: subscribe), channel: channel)
        }
        let configuration = services.configuration
        limiter = RateLimiter(
            messagesPerSecond: Double(configuration.clientRate), messageBurst: Double(configuration.clientBurst),
            bytesPerSecond: Double(configuration.clientBytesRate), byteBurst: Double(configuration.clientByteBurst)
        )
    }

    private var connection: ClientConnection { session.connection }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let connection = self.connection
        let metrics = session.metrics
        // Counted once the socket is gone, when every reason for closing it has been seen.
        channel.closeFuture.whenComplete { _ in metrics.closed(connection.reason) }
        // The pump calls back on this event loop once it has written what was queued.
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let pump = ConnectionPump(
            connection: connection, metrics: metrics, pingInterval: TimeAmount(session.services.configuration.pingInterval)
        ) { ending in
            switch ending {
            case .shutdown:
                connection.markClosing(.shutdown)
                handler.value.startClose(channel, code: CloseReason.restartCode, reason: "node draining; reconnect")
            case .disconnect(let reason):
                connection.markClosing(.disconnected)
                handler.value.startClose(channel, code: CloseReason.disconnectedCode, reason: reason)
            case .tokenExpired:
                connection.markClosing(.tokenExpired)
                handler.value.startClose(channel, code: CloseReason.tokenExpiredCode, reason: "token expired; reconnect with a fresh token")
            case .peerClosed(let code):
                handler.value.echoClose(channel, code: WebSocketErrorCode(codeNumber: code))
            case .overflow, .finished:
                break
            }
        }
        do {
            let decoder = try context.pipeline.syncOperations.context(handlerType: ByteToMessageHandler<WebSocketFrameDecoder>.self)
            try context.pipeline.syncOperations.addHandler(rules, position: .after(decoder.handler))
            try context.pipeline.syncOperations.addHandler(pump, position: .after(rules))
        } catch {
            session.logger.error("cannot serve the connection: no WebSocket frame decoder in its pipeline", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        work.push(.open, channel: channel)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            guard let text = String(validating: frame.unmaskedData.readableBytesView, as: UTF8.self) else {
                fail(context: context, .dataInconsistentWithMessage, reason: .invalidUTF8)
                return
            }
            deliver(.text(text), bytes: frame.length, context: context)
        case .binary:
            deliver(.binary(frame.unmaskedData), bytes: frame.length, context: context)
        case .ping:
            // Pings count against the rate limit like any frame: past it, one is left
            // unanswered (a ping has no id to refuse), and a flood closes the connection.
            guard admitControlFrame(bytes: frame.length, context: context) else { return }
            // A client that pings faster than it reads gets one pong, for its latest ping,
            // once the socket takes writes again (RFC 6455 §5.5.3): pongs never pile up.
            if context.channel.isWritable {
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
            } else {
                pendingPong = frame.unmaskedData
            }
        case .connectionClose:
            if closing {
                context.close(promise: nil)  // the client answered our close
            } else {
                answerClose(frame.unmaskedData, context: context)
            }
        case .pong:
            // Unsolicited pongs are allowed (RFC 6455 §5.5.3), and counted like pings.
            _ = admitControlFrame(bytes: frame.length, context: context)
        default:
            break
        }
    }

    /// Whether a ping or pong is within the rate limit; past it and the forgiveness, the
    /// connection is closed (4029) as for any frame.
    private func admitControlFrame(bytes: Int, context: ChannelHandlerContext) -> Bool {
        guard !closing else { return false }
        switch limiter.admit(bytes: bytes, now: context.eventLoop.now) {
        case .allow:
            return true
        case .refuse:
            session.metrics.hit(.rate)
            return false
        case .close:
            closeForRate(context: context)
            return false
        }
    }

    private func closeForRate(context: ChannelHandlerContext) {
        session.metrics.hit(.rateClose)
        session.logger.info("closing a client that kept sending past its rate limit")
        fail(context: context, CloseReason.rateLimitedCode, reason: .rateLimited)
    }

    private func deliver(_ message: ClientMessage, bytes: Int, context: ChannelHandlerContext) {
        guard !closing else { return }
        session.metrics.messagesIn.increment()
        switch limiter.admit(frames: rules.takeDataFrames(), bytes: bytes, now: context.eventLoop.now) {
        case .allow:
            break
        case .refuse:
            session.metrics.hit(.rate)
            session.reply(
                to: FrameCodec.peekID(message), error: .rateLimited,
                "more than \(Int(limiter.messageRate)) frames or \(Int(limiter.byteRate)) bytes a second: slow down"
            )
            return
        case .close:
            closeForRate(context: context)
            return
        }
        guard let frame = session.decode(message) else { return }
        let answers = connection.answers
        answers.begin()
        // Frames that await nothing are handled here, unless earlier ones still wait in the work queue.
        if work.isIdle && (session.handleNow(frame, done: answers.end) || work.startCallNow(frame)) { return }
        if work.push(.frame(frame), channel: context.channel) {
            // Too much unhandled input: stop reading until the task catches up.
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let payload = pendingPong.take() {
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: payload)), promise: nil)
        }
        context.fireChannelWritabilityChanged()
    }

    /// Answers a client's close (RFC 6455 §5.5.1, §7.4): with its code when that is one a
    /// peer may send, 1002 when it is not or the payload is a lone byte, 1007 when the
    /// reason is not UTF-8. A valid close is echoed once every frame before it has been
    /// answered (`PendingAnswers`), within the close timeout.
    private func answerClose(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        var data = payload
        var code = WebSocketErrorCode.normalClosure
        if data.readableBytes > 0 {
            guard let raw = data.readInteger(as: UInt16.self), Self.mayBeSent(closeCode: Int(raw)) else {
                fail(context: context, .protocolError, reason: .protocolError)
                return
            }
            guard String(validating: data.readableBytesView, as: UTF8.self) != nil else {
                fail(context: context, .dataInconsistentWithMessage, reason: .invalidUTF8)
                return
            }
            code = WebSocketErrorCode(codeNumber: Int(raw))
        }
        closing = true
        scheduleCloseTimer(context.channel)
        connection.answers.closeWhenAnswered(code: Int(UInt16(webSocketErrorCode: code)))
    }

    /// The owed answers are written: echo the client's close and drop the socket.
    private func echoClose(_ channel: any Channel, code: WebSocketErrorCode) {
        channel.writeAndFlush(WebSocketFrame.close(code, allocator: channel.allocator))
            .whenComplete { _ in channel.close(promise: nil) }
    }

    /// Close codes a peer may put on the wire: the defined ones of RFC 6455 §7.4.1 and the
    /// IANA registry (never 1004–1006 or 1015), and 3000–4999 for libraries and applications.
    static func mayBeSent(closeCode code: Int) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIO's protocol error handler has already answered decoder errors with a close
        // frame; the aggregator's (a fragmented message over the limit) and the frame
        // rules' are answered here.
        if error is FrameRules.Violation {
            session.logger.debug("client broke the WebSocket protocol", metadata: ["rule": "\(error)"])
            fail(context: context, .protocolError, reason: .protocolError)
        } else if let error = error as? NIOWebSocketError {
            let tooLarge = error == .invalidFrameLength
            fail(context: context, tooLarge ? .messageTooLarge : .protocolError, reason: tooLarge ? .tooLarge : .protocolError)
        } else if let error = error as? NIOWebSocketFrameAggregator.Error {
            switch error {
            case .accumulatedFrameSizeIsTooLarge, .tooManyFragments:
                fail(context: context, .messageTooLarge, reason: .tooLarge)
            default:
                fail(context: context, .protocolError, reason: .protocolError)
            }
        } else {
            connection.markClosing(.error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closeTimer?.cancel()
        work.push(.close, channel: context.channel)
        context.fireChannelInactive()
    }

    /// Closes with `code` at once: the client broke the protocol.
    private func fail(context: ChannelHandlerContext, _ code: WebSocketErrorCode, reason: CloseReason) {
        connection.markClosing(reason)
        guard !closing else { return }
        closing = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.close(code, allocator: channel.allocator)))
            .whenComplete { _ in channel.close(promise: nil) }
        // A client that reads nothing never lets the close frame out: drop it anyway.
        scheduleCloseTimer(context.channel)
    }

    /// Drops the socket after the close timeout, whatever the client does.
    private func scheduleCloseTimer(_ channel: any Channel) {
        closeTimer?.cancel()
        closeTimer = channel.eventLoop.scheduleTask(in: TimeAmount(session.services.configuration.closeTimeout)) {
            channel.close(promise: nil)
        }
    }

    /// A close the node starts (shutdown, a backend's disconnect): the close frame goes
    /// after what is queued (the pump wrote it already), then the client has the close
    /// timeout to answer before the socket is dropped.
    private func startClose(_ channel: any Channel, code: WebSocketErrorCode, reason: String) {
        guard !closing else { return }
        closing = true
        channel.writeAndFlush(WebSocketFrame.close(code, reason: reason, allocator: channel.allocator), promise: nil)
        scheduleCloseTimer(channel)
    }
}
