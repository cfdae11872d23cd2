import CoreMetrics
import Logging
import NIOCore
import NIOWebSocket

/// The read side of a client connection, on its event loop. Frames that await nothing
/// (send, ping) are handled right here; the rest go into an inbox that a task works
/// through in order only while there is work — joining the node, presence lookups,
/// leaving — so an idle connection holds no task. Backend calls run beside it.
/// It also answers the WebSocket control frames and turns protocol errors into close
/// codes (1009, 1007, 1002).
final class ClientChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let session: ClientSession
    private let inbox: SessionInbox
    private var closing = false
    private var closeTimer: Scheduled<Void>?

    init(node: GatewayNode, accepted: Handshake.Accepted, channel: any Channel) {
        let id = node.makeConnectionID()
        var logger = node.logger
        logger[metadataKey: "connection"] = "\(id)"
        logger[metadataKey: "user"] = "\(accepted.user)"
        let queue = OutboundQueue(maxMessages: node.configuration.queueMessages, maxBytes: node.configuration.queueBytes) {
            channel.pipeline.fireUserInboundEventTriggered(ConnectionPump.Wake())
        }
        let connection = ClientConnection(
            id: id, user: accepted.user, format: accepted.format, queue: queue, channel: channel, metrics: node.metrics, logger: logger
        )
        session = ClientSession(connection: connection, node: node, logger: logger)
        inbox = SessionInbox(session: session)
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
            connection: connection, metrics: metrics, pingInterval: TimeAmount(session.node.configuration.pingInterval)
        ) { ending in
            switch ending {
            case .shutdown:
                connection.markClosing(.shutdown)
                handler.value.startClose(channel, code: CloseReason.restartCode, reason: "node draining; reconnect")
            case .disconnect(let reason):
                connection.markClosing(.disconnected)
                handler.value.startClose(channel, code: CloseReason.disconnectedCode, reason: reason)
            case .overflow, .finished:
                break
            }
        }
        do {
            let decoder = try context.pipeline.syncOperations.context(handlerType: ByteToMessageHandler<WebSocketFrameDecoder>.self)
            try context.pipeline.syncOperations.addHandler(pump, position: .after(decoder.handler))
        } catch {
            session.logger.error("cannot serve the connection: no WebSocket frame decoder in its pipeline", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        inbox.push(.open, channel: channel)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            guard let text = String(validating: frame.unmaskedData.readableBytesView, as: UTF8.self) else {
                fail(context: context, .dataInconsistentWithMessage, reason: .invalidUTF8)
                return
            }
            deliver(.text(text), context: context)
        case .binary:
            deliver(.binary(frame.unmaskedData), context: context)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            if closing {
                context.close(promise: nil)  // the client answered our close
            } else {
                // Echo the client's close, then drop the socket.
                var data = frame.unmaskedData
                let code = data.readInteger(as: UInt16.self).map { WebSocketErrorCode(codeNumber: Int($0)) } ?? .normalClosure
                closing = true
                context.writeAndFlush(wrapOutboundOut(.close(code, allocator: context.channel.allocator)))
                    .whenComplete { _ in context.close(promise: nil) }
            }
        default:
            break
        }
    }

    private func deliver(_ message: ClientMessage, context: ChannelHandlerContext) {
        guard !closing else { return }
        session.metrics.messagesIn.increment()
        guard let frame = session.decode(message) else { return }
        // Frames that await nothing are handled here, unless earlier ones still wait in the inbox.
        if inbox.isIdle && session.handleNow(frame) { return }
        if inbox.push(.frame(frame), channel: context.channel) {
            // Too much unhandled input: stop reading until the task catches up.
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIO's protocol error handler has already answered decoder errors with a close
        // frame; the aggregator's (a fragmented message over the limit) are answered here.
        if let error = error as? NIOWebSocketError {
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
        inbox.push(.close, channel: context.channel)
        context.fireChannelInactive()
    }

    /// Closes with `code` at once: the client broke the protocol.
    private func fail(context: ChannelHandlerContext, _ code: WebSocketErrorCode, reason: CloseReason) {
        connection.markClosing(reason)
        guard !closing else { return }
        closing = true
        context.writeAndFlush(wrapOutboundOut(.close(code, allocator: context.channel.allocator)))
            .whenComplete { _ in context.close(promise: nil) }
    }

    /// A close the node starts (shutdown, a backend's disconnect): the close frame goes
    /// after what is queued (the pump wrote it already), then the client has the close
    /// timeout to answer before the socket is dropped.
    private func startClose(_ channel: any Channel, code: WebSocketErrorCode, reason: String) {
        guard !closing else { return }
        closing = true
        channel.writeAndFlush(WebSocketFrame.close(code, reason: reason, allocator: channel.allocator), promise: nil)
        closeTimer = channel.eventLoop.scheduleTask(in: TimeAmount(session.node.configuration.closeTimeout)) {
            channel.close(promise: nil)
        }
    }
}
