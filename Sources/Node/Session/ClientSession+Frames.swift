import CoreMetrics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Essentials
import Identity
import Presence
import Logging
import Routing
import NIOCore
import SwiftProtobuf
import SwitchboardProtocol

/// Handling the client's frames: the gateway-native operations.
extension ClientSession {
    /// A client message decoded into its envelope; nil (and an error answered) when it is
    /// not one. The frame's opcode picks the decoder; a JSON send takes the fast path.
    func decode(_ message: ClientMessage) -> DecodedFrame? {
        let frame: Switchboard_V1_ClientFrame
        let binary: Bool
        do {
            switch message {
            case .text(var text):
                let fast = text.withUTF8 { bytes in Result { () throws(SendFrameError) in try FrameCodec.decodeSend(text: UnsafeRawBufferPointer(bytes)) } }
                if let send = try fast.get() { return .send(send) }
                frame = try FrameCodec.decode(text: text)
                binary = false
            case .binary(let bytes):
                frame = try FrameCodec.decode(binary: bytes)
                binary = true
            }
        } catch {
            metrics.badFrames.increment()
            let format = if case .text = message { "a JSON" } else { "a protobuf" }
            reply(to: (error as? SendFrameError)?.id ?? "", error: .badFrame, "the frame is not \(format) envelope: \(error)")
            return nil
        }
        guard case .send(let request) = frame.body else { return .other(frame, binary: binary) }
        do {
            let payload = try PushPayload(from: connection.user, kind: request.kind, value: request.data)
            return .send(DecodedFrame.Send(id: frame.id, to: request.to, kind: request.kind, data: payload.data))
        } catch {
            metrics.badFrames.increment()
            reply(to: frame.id, error: .invalidArgument, "send.data: \(error)")
            return nil
        }
    }

    /// Handles a frame that awaits nothing — a send (its publish completes on this loop and
    /// answers then), a ping, a frame naming no operation — right here on the connection's
    /// event loop; false for frames that need the session's task. `done` runs once the
    /// frame is answered (only when this returns true).
    func handleNow(_ decoded: DecodedFrame, done: @escaping @Sendable () -> Void) -> Bool {
        let frame: Switchboard_V1_ClientFrame
        switch decoded {
        case .send(let send):
            self.send(send, done: done)
            return true
        case .other(let other, _):
            frame = other
        }
        switch frame.body {
        case .ping:
            reply(to: frame.id, ok: .init(structValue: [
                "node": .init(stringValue: services.configuration.nodeID),
                "time": .init(numberValue: Double(WallClock.milliseconds)),
            ]))
        case nil:
            metrics.badFrames.increment()
            reply(to: frame.id, error: .badFrame, "the frame names no operation: expected one of call, send, presence, ping, subscribe, unsubscribe, publish")
        case .unsubscribe(let request):
            // Here unless topic presence must be withdrawn first (in the session's task).
            guard !keepsPresence(request.topic) else { return false }
            unsubscribeNow(request, id: frame.id)
        case .publish(let request):
            guard publishDecidesNow(request) else { return false }
            publish(request, id: frame.id, done: done)
            return true
        case .presence, .call, .send, .subscribe:
            return false
        }
        done()
        return true
    }

    /// Handles one frame in order, in the session's task. A backend call is returned as
    /// work for the caller to run concurrently, so a slow backend does not hold up the socket.
    func handle(_ decoded: DecodedFrame) async -> (@Sendable () async -> Void)? {
        guard case .other(let frame, let binary) = decoded else {
            if case .send(let send) = decoded {
                await withCheckedContinuation { continuation in self.send(send) { continuation.resume() } }
            }
            return nil
        }
        switch frame.body {
        case .presence(let request):
            await lookUpPresence(request, id: frame.id)
        case .call(let route):
            return prepareCall(route, frame: frame, binary: binary)
        case .subscribe(let request):
            await subscribe(request, id: frame.id)
        case .publish(let request):
            await publishAfterAuthorizing(request, id: frame.id)
        case .unsubscribe(let request):
            await unsubscribe(request, id: frame.id)
        case .ping, .send, nil:
            _ = handleNow(decoded) {}
        }
        return nil
    }

    /// Routes the send and answers once its outcome is known; `done` runs then.
    private func send(_ request: DecodedFrame.Send, done: @escaping @Sendable () -> Void) {
        let id = request.id
        if let problem = UserID.problem(request.to) {
            reply(to: id, error: .invalidArgument, "send.to: \(problem)")
            return done()
        }
        if ReservedKinds.isReserved(request.kind) {
            reply(to: id, error: .invalidArgument, "send.kind: '\(request.kind.prefix(64))' is reserved for backends (docs/protocol.md)")
            return done()
        }
        let push = PushPayload(from: connection.user, kind: request.kind.isEmpty ? "message" : request.kind, data: request.data)
        let session = self
        let durable = services.configuration.inbox.isDurable(kind: push.kind)
        services.delivery.push(push, to: .user(request.to), durable: durable) { result in
            switch result {
            case .success(let outcome) where outcome.isOffline:
                if session.services.registry.holds(user: request.to) {
                    // Held here, but its queue is half full of other users' messages.
                    session.reply(to: id, error: .receiverBusy, "the receiver is not reading fast enough; the message was dropped")
                } else {
                    session.reply(to: id, error: .offline, "the user is not connected")
                }
            case .success(let outcome):
                session.reply(to: id, outcome)
            case .failure(let error):
                session.reply(to: id, .unavailable, error.publicDescription, incident: error)
            }
            done()
        }
    }

    private func lookUpPresence(_ request: Switchboard_V1_PresenceRequest, id: String) async {
        guard request.topic.isEmpty else {
            guard request.user.isEmpty else { return reply(to: id, error: .invalidArgument, "presence: name a user or a topic, not both") }
            return await lookUpPresence(topic: request.topic, id: id)
        }
        if let problem = UserID.problem(request.user) {
            reply(to: id, error: .invalidArgument, "presence.user: \(problem)")
            return
        }
        do {
            let found = try await services.presence.lookup(user: request.user, limit: services.configuration.presenceLimit)
            let connections = found.entries.map { entry -> Google_Protobuf_Value in
                .init(structValue: ["id": .init(stringValue: entry.connection.description), "node": .init(stringValue: entry.nodeID)])
            }
            reply(to: id, ok: .init(structValue: [
                "user": .init(stringValue: request.user),
                "online": .init(boolValue: found.total > 0),
                "connections": .init(listValue: .init(values: connections)),
                "count": .init(numberValue: Double(found.total)),
            ]))
        } catch {
            services.metrics.presenceErrors.increment()
            reply(to: id, .unavailable, "presence is unavailable; retry", incident: error)
        }
    }

    /// A frame without an id is fire-and-forget: success is not answered, failure is.
    func reply(to id: String, ok value: @autoclosure () -> Google_Protobuf_Value) {
        guard !id.isEmpty else { return }
        var frame = Switchboard_V1_ServerFrame()
        frame.id = id
        frame.ok = value()
        connection.enqueue(FrameCodec.encode(frame, as: connection.format))
    }

    /// A send's answer: the hottest answer there is, so JSON is written directly.
    func reply(to id: String, _ outcome: PushOutcome) {
        guard !id.isEmpty else { return }
        connection.enqueue(FrameCodec.encode(answerTo: id, outcome, as: connection.format))
    }

    func reply(to id: String, okPayload bytes: [UInt8]) {
        guard !id.isEmpty else { return }
        var frame = Switchboard_V1_ServerFrame()
        frame.id = id
        frame.okPayload = Data(bytes)
        connection.enqueue(FrameCodec.encode(frame, as: connection.format))
    }

    /// Answers a failure the client cannot know the cause of: the detail (addresses,
    /// transport errors) goes to the log under an incident id, the client gets `message`
    /// and the same id to quote.
    func reply(to id: String, _ code: ErrorCode, _ message: String, incident error: any Error) {
        let incident = Incident.makeID()
        logger.warning("\(message)", metadata: ["incident": "\(incident)", "code": "\(code.rawValue)", "error": "\(error)"])
        reply(to: id, error: code, "\(message) (incident \(incident))")
    }

    func reply(to id: String, error code: ErrorCode, _ message: String, retryAfter: Duration? = nil) {
        var frame = Switchboard_V1_ServerFrame()
        frame.id = id
        frame.error = .init(code: code, message: message)
        if let retryAfter { frame.error.retryAfterMs = UInt32(clamping: max(1, retryAfter.milliseconds)) }
        connection.enqueue(FrameCodec.encode(frame, as: connection.format))
    }
}

extension PushOutcome {
    /// The `ok` body of a push's reply.
    var protobufValue: Google_Protobuf_Value {
        var fields: [String: Google_Protobuf_Value] = [
            "delivered": .init(numberValue: Double(localConnections)),
            "relayedNodes": .init(numberValue: Double(relayedNodes)),
        ]
        if let stored {
            fields["stored"] = .init(boolValue: true)
            fields["position"] = stored.protobufValue
        }
        return .init(structValue: .init(fields: fields))
    }
}
