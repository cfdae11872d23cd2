import NIOCore
import NIOWebSocket
import Routing
import SwitchboardProtocol

/// The JSON send's fast path: the envelope is read with `JSONScanner`, and `send.data` is
/// checked and kept as the bytes the client wrote instead of being decoded into a
/// protobuf `Value` (and encoded again for every receiver).
extension FrameCodec {
    /// The send in `text`; nil when the envelope holds anything else (the protobuf
    /// decoder takes it then). A send whose data is not JSON nested at most
    /// `PushPayload.maxDepth` deep throws, with the frame's id when it was read.
    package static func decodeSend(text: UnsafeRawBufferPointer) throws(SendFrameError) -> DecodedFrame.Send? {
        var scanner = JSONScanner(text)
        var id = ""
        do {
            try scanner.expect(UInt8(ascii: "{"))
            var send: (to: String, kind: String, data: [UInt8]?)?
            var other = false
            try scanner.forEachMember { scanner throws(JSONScanner.Failure) in
                let key = try scanner.readString()
                try scanner.expect(UInt8(ascii: ":"))
                switch key {
                case "id":
                    id = try scanner.readOptionalString()
                case "send":
                    scanner.skipWhitespace()
                    guard scanner.peek() == UInt8(ascii: "{") else {
                        other = true
                        try scanner.skipValue(depth: 100)
                        return
                    }
                    send = try readSendBody(&scanner)
                default:
                    other = true
                    try scanner.skipValue(depth: 100)
                }
            }
            scanner.skipWhitespace()
            guard scanner.atEnd else { throw scanner.fail("text after the envelope") }
            guard !other, let send else { return nil }
            return DecodedFrame.Send(id: id, to: send.to, kind: send.kind, data: send.data)
        } catch {
            throw SendFrameError(id: id, message: "\(error)")
        }
    }

    /// The members of `send`, from its `{`; unknown ones are skipped like the protobuf
    /// decoder skips them.
    private static func readSendBody(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> (to: String, kind: String, data: [UInt8]?) {
        var to = ""
        var kind = ""
        var data: [UInt8]?
        try scanner.expect(UInt8(ascii: "{"))
        try scanner.forEachMember { scanner throws(JSONScanner.Failure) in
            let key = try scanner.readString()
            try scanner.expect(UInt8(ascii: ":"))
            switch key {
            case "to": to = try scanner.readOptionalString()
            case "kind": kind = try scanner.readOptionalString()
            case "data":
                let range: Range<Int>
                do throws(JSONScanner.Failure) {
                    range = try scanner.skipValue(depth: PushPayload.maxDepth)
                } catch {
                    throw JSONScanner.Failure(message: "send.data: \(error.message) (data may nest \(PushPayload.maxDepth) deep at most)", offset: error.offset)
                }
                data = scanner.bytes(in: range)
            default:
                try scanner.skipValue(depth: 100)
            }
        }
        return (to, kind, data)
    }
}

/// A JSON send frame that cannot be taken: the reply goes to `id` when it was read.
package struct SendFrameError: Error, CustomStringConvertible {
    let id: String
    let message: String
    package var description: String { message }
}

extension FrameCodec {
    /// A send's answer, `{"id":…,"ok":{"delivered":N,"relayedNodes":M}}`: written directly
    /// in JSON (no `Value` to build for the most frequent answer there is), through the
    /// envelope in protobuf.
    static func encode(answerTo id: String, _ outcome: PushOutcome, as format: WireFormat) -> EncodedFrame {
        switch format {
        case .json:
            var buffer = ByteBuffer()
            buffer.reserveCapacity(48 + id.utf8.count)
            buffer.writeStaticString(#"{"id":"#)
            buffer.writeJSONString(id)
            buffer.writeStaticString(#","ok":{"delivered":"#)
            buffer.writeString(String(outcome.localConnections))
            buffer.writeStaticString(#","relayedNodes":"#)
            buffer.writeString(String(outcome.relayedNodes))
            if let stored = outcome.stored {
                buffer.writeStaticString(#","stored":true,"position":"#)
                buffer.writeJSON(stored)
            }
            buffer.writeStaticString("}}")
            return EncodedFrame(opcode: .text, data: buffer)
        case .protobuf:
            var frame = Switchboard_V1_ServerFrame()
            frame.id = id
            frame.ok = outcome.protobufValue
            return encode(frame, as: .protobuf)
        }
    }
}
