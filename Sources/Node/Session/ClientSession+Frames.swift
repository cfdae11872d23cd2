#if canImport(FoundationEssentials)
import CoreMetrics
import FoundationEssentials
import Presence
#else
import Foundation
#endif
import Essentials
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
                "node": .init(stringValue: node.configuration.nodeID),
                "time": .init(numberValue: Double(WallClock.milliseconds)),
            ]))
        case nil:
            metrics.badFrames.increment()
            reply(to: frame.id, error: .badFrame, "the frame names no operation: expected one of call, send, presence, ping")
        case .presence, .call, .send:
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
        case .ping, .send, nil:
            _ = handleNow(decoded) {}
        }
        return nil
    }

    /// Routes the send and answers once its outcome is known; `done` runs then.
    private func send(_ request: DecodedFrame.Send, done: @escaping @Sendable () -> Void) {
        let id = request.id
        guard !request.to.isEmpty else {
            reply(to: id, error: .invalidArgument, "send.to: the target user is required")
            return done()
        }
        let push = PushPayload(from: connection.user, kind: request.kind.isEmpty ? "message" : request.kind, data: request.data)
        let session = self
        node.push(push, to: .user(request.to)) { result in
            switch result {
            case .success(let outcome) where outcome.isOffline:
                session.reply(to: id, error: .offline, "\(request.to) is not connected")
            case .success(let outcome):
                session.reply(to: id, ok: outcome.protobufValue)
            case .failure(let error):
                session.reply(to: id, error: .unavailable, "\(error)")
            }
            done()
        }
    }

    private func lookUpPresence(_ request: Switchboard_V1_PresenceRequest, id: String) async {
        guard !request.user.isEmpty else {
            reply(to: id, error: .invalidArgument, "presence.user: the user is required")
            return
        }
        do {
            let entries = try await node.presence.lookup(user: request.user)
            let connections = entries.map { entry -> Google_Protobuf_Value in
                .init(structValue: ["id": .init(stringValue: entry.connection.description), "node": .init(stringValue: entry.nodeID)])
            }
            reply(to: id, ok: .init(structValue: [
                "user": .init(stringValue: request.user),
                "online": .init(boolValue: !entries.isEmpty),
                "connections": .init(listValue: .init(values: connections)),
            ]))
        } catch {
            node.metrics.presenceErrors.increment()
            reply(to: id, error: .unavailable, "presence is unavailable: \(error)")
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

    func reply(to id: String, okPayload bytes: [UInt8]) {
        guard !id.isEmpty else { return }
        var frame = Switchboard_V1_ServerFrame()
        frame.id = id
        frame.okPayload = Data(bytes)
        connection.enqueue(FrameCodec.encode(frame, as: connection.format))
    }

    func reply(to id: String, error code: ClientErrorCode, _ message: String) {
        var frame = Switchboard_V1_ServerFrame()
        frame.id = id
        frame.error = .init(code: code, message: message)
        connection.enqueue(FrameCodec.encode(frame, as: connection.format))
    }
}

extension PushOutcome {
    /// The `ok` body of a push's reply.
    var protobufValue: Google_Protobuf_Value {
        .init(structValue: [
            "delivered": .init(numberValue: Double(localConnections)),
            "relayedNodes": .init(numberValue: Double(relayedNodes)),
        ])
    }
}
