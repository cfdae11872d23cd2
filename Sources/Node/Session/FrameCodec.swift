package import NIOCore
import Routing
import NIOWebSocket
import SwiftProtobuf
package import SwitchboardProtocol

/// Turns WebSocket messages into envelopes and envelopes into frames.
///
/// The frame's own opcode picks the decoder (text: JSON, binary: protobuf), so a client
/// may mix them; replies use the connection's negotiated format.
package enum FrameCodec {
    /// Unknown JSON fields are ignored so that newer clients work with older nodes.
    private static let jsonDecoding: JSONDecodingOptions = {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return options
    }()

    package static func decode(text: String) throws -> Switchboard_V1_ClientFrame {
        try Switchboard_V1_ClientFrame(jsonString: text, options: jsonDecoding)
    }

    package static func decode(binary: ByteBuffer) throws -> Switchboard_V1_ClientFrame {
        try Switchboard_V1_ClientFrame(serializedBytes: Array(binary.readableBytesView))
    }

    /// A push, encoded once for every receiver in `format`. JSON is written around the
    /// data's own text (`{"push":{"from":…,"kind":…,"data":…,"origin":…}}`, what the protobuf JSON
    /// mapping gives); protobuf decodes the data into a `Value` once.
    static func encode(push: PushPayload, as format: WireFormat) -> EncodedFrame {
        switch format {
        case .json:
            var buffer = ByteBuffer()
            buffer.reserveCapacity(32 + push.from.utf8.count + push.kind.utf8.count + (push.data?.count ?? 0) + (push.topic.map { 10 + $0.utf8.count } ?? 0))
            buffer.writeStaticString(#"{"push":{"#)
            var separator = false
            if !push.from.isEmpty {
                buffer.writeStaticString(#""from":"#)
                buffer.writeJSONString(push.from)
                separator = true
            }
            if !push.kind.isEmpty {
                buffer.writeStaticString(separator ? #","kind":"# : #""kind":"#)
                buffer.writeJSONString(push.kind)
                separator = true
            }
            if let data = push.data {
                buffer.writeStaticString(separator ? #","data":"# : #""data":"#)
                buffer.writeBytes(data)
                separator = true
            }
            if separator { buffer.writeStaticString(",") }
            switch push.origin {
            case .user: buffer.writeStaticString(#""origin":"user""#)
            case .backend: buffer.writeStaticString(#""origin":"backend""#)
            }
            if let position = push.position {
                buffer.writeStaticString(#","position":"#)
                buffer.writeJSON(position)
            }
            if let topic = push.topic {
                buffer.writeStaticString(#","topic":"#)
                buffer.writeJSONString(topic)
            }
            buffer.writeStaticString("}}")
            return EncodedFrame(opcode: .text, data: buffer)
        case .protobuf:
            var frame = Switchboard_V1_ServerFrame()
            frame.push.from = push.from
            frame.push.kind = push.kind
            frame.push.origin = push.origin.rawValue
            if push.data != nil { frame.push.data = push.value() }
            if let position = push.position { frame.push.position = .init(position) }
            if let topic = push.topic { frame.push.topic = topic }
            return encode(frame, as: .protobuf)
        }
    }

    /// Every field present (protobuf's JSON drops false and zero) and offsets as numbers.
    private static func encode(welcomeJSON welcome: Switchboard_V1_Welcome) -> EncodedFrame {
        var buffer = ByteBuffer()
        buffer.writeStaticString(#"{"welcome":{"connection":"#)
        buffer.writeJSONString(welcome.connection)
        buffer.writeStaticString(#","node":"#)
        buffer.writeJSONString(welcome.node)
        buffer.writeStaticString(#","user":"#)
        buffer.writeJSONString(welcome.user)
        let inbox = welcome.inbox
        buffer.writeStaticString(#","inbox":{"position":{"epoch":"#)
        buffer.writeJSONString(inbox.position.epoch)
        buffer.writeString(#","offset":\#(inbox.position.offset)},"resumed":\#(inbox.resumed),"recovered":\#(inbox.recovered),"replayed":\#(inbox.replayed)}"#)
        if welcome.tokenExpiresAtMs != 0 { buffer.writeString(#","tokenExpiresAtMs":\#(welcome.tokenExpiresAtMs)"#) }
        if welcome.hasLimits {
            let limits = welcome.limits
            buffer.writeString(
                #","limits":{"maxFrameBytes":\#(limits.maxFrameBytes),"framesPerSecond":\#(limits.framesPerSecond),"frameBurst":\#(limits.frameBurst),"#
                    + #""bytesPerSecond":\#(limits.bytesPerSecond),"byteBurst":\#(limits.byteBurst),"callsInFlight":\#(limits.callsInFlight),"#
                    + #""presenceConnections":\#(limits.presenceConnections),"queueFrames":\#(limits.queueFrames),"queueBytes":\#(limits.queueBytes),"#
                    + #""pingIntervalMs":\#(limits.pingIntervalMs),"topics":\#(limits.topics)}"#
            )
        }
        if !welcome.topics.isEmpty {
            buffer.writeStaticString(#","topics":["#)
            for (index, topic) in welcome.topics.enumerated() {
                if index > 0 { buffer.writeStaticString(",") }
                buffer.writeJSONString(topic)
            }
            buffer.writeStaticString("]")
        }
        buffer.writeStaticString("}}")
        return EncodedFrame(opcode: .text, data: buffer)
    }

    static func encode(_ frame: Switchboard_V1_ServerFrame, as format: WireFormat) -> EncodedFrame {
        do {
            switch format {
            case .json:
                if case .ok(let value) = frame.body {
                    // Written by hand so whole numbers are integers (docs/protocol.md § Numbers).
                    var buffer = ByteBuffer()
                    buffer.writeStaticString(#"{"id":"#)
                    buffer.writeJSONString(frame.id)
                    buffer.writeStaticString(#","ok":"#)
                    try value.writePlainJSON(into: &buffer)
                    buffer.writeStaticString("}")
                    return EncodedFrame(opcode: .text, data: buffer)
                }
                if case .welcome(let welcome) = frame.body { return encode(welcomeJSON: welcome) }
                let bytes: [UInt8] = try frame.jsonUTF8Bytes()
                return EncodedFrame(opcode: .text, data: ByteBuffer(bytes: bytes))
            case .protobuf:
                let bytes: [UInt8] = try frame.serializedBytes()
                return EncodedFrame(opcode: .binary, data: ByteBuffer(bytes: bytes))
            }
        } catch {
            // Only non-finite numbers in a Value fail to encode; say so instead of dropping the frame.
            var failure = Switchboard_V1_ServerFrame()
            failure.id = frame.id
            failure.error = .init(code: .internal, message: "the reply could not be encoded: \(error)")
            return encode(failure, as: format)
        }
    }
}
