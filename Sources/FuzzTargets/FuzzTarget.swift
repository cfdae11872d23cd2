import RedisBackplane
import Foundation
import NIOCore
import Node
import Routing
import SwiftProtobuf
import SwitchboardProtocol

/// The places where bytes from outside enter a node, each as a function of those bytes:
/// what `switchboard-fuzz` feeds libFuzzer's inputs to, and what the regression test
/// replays the corpora and past crashes through. A target returns normally for any
/// input; a crash, a sanitizer report or a hang is a finding.
package enum FuzzTarget: String, CaseIterable, Sendable {
    /// A JSON text frame: the send fast path, the envelope decoder, the data checker.
    case json
    /// A binary frame: the protobuf envelope decoder and a send's `Value`.
    case protobuf
    /// A relay message from Redis: the batch decoder, item audiences, a push's data.
    case relay
    /// WebSocket frames from an authenticated client, through the node's pipeline.
    case frames
    /// The client port's first bytes: HTTP requests, upgrades, health and metrics.
    case http
    /// A token's claims (the input, as its JSON payload), validly signed with the node's
    /// secret, presented in an upgrade: extreme times, odd subjects, wrong types.
    case token

    package func run(_ bytes: [UInt8]) {
        switch self {
        case .json: Self.json(bytes)
        case .protobuf: Self.protobuf(bytes)
        case .relay: Self.relay(bytes)
        case .frames: Self.pipeline(upgradeFirst: true, bytes)
        case .http: Self.pipeline(upgradeFirst: false, bytes)
        case .token: Self.token(claims: bytes)
        }
    }

    private static func json(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { raw in Result { () throws(SendFrameError) in try FrameCodec.decodeSend(text: raw) } }
        if let text = String(validating: bytes, as: UTF8.self) { _ = try? FrameCodec.decode(text: text) }
        if let checked = try? PushPayload.checkedJSON(bytes) {
            _ = PushPayload(from: "fuzz", kind: "k", data: checked).value()
        }
    }

    private static func protobuf(_ bytes: [UInt8]) {
        guard let frame = try? FrameCodec.decode(binary: ByteBuffer(bytes: bytes)) else { return }
        if case .send(let send) = frame.body, let payload = try? PushPayload(from: "fuzz", kind: send.kind, value: send.data) {
            _ = payload.value()
        }
        _ = try? frame.jsonString()
    }

    private static func relay(_ bytes: [UInt8]) {
        guard let batch = try? Switchboard_Relay_V1_RelayBatch(serializedBytes: bytes) else { return }
        for item in batch.items {
            _ = RedisRelayBus.audience(item)
            // What a receiving node does for a protobuf receiver: the data as a Value.
            if item.hasDataJson { _ = PushPayload(from: item.from, kind: item.kind, data: Array(item.dataJson)).value() }
        }
    }
}
