import NIOCore
import SwiftProtobuf
import SwitchboardProtocol

/// What every generated message carries in `data.m`: who sent it, whom it is for, its
/// sequence number and the CLOCK_MONOTONIC nanosecond it was (meant to be) sent. The
/// receiver checks delivery and latency from it alone.
struct DeliveryMarker: Sendable, Equatable {
    var source: Int
    var target: Int
    var sequence: Int
    var sentAt: Int64

    var text: String { "\(source).\(target).\(sequence).\(sentAt)" }

    /// `data` of a send or push: the marker plus `padding` bytes.
    func data(padding: String) -> Google_Protobuf_Value {
        Google_Protobuf_Value(structValue: Google_Protobuf_Struct(fields: [
            "m": Google_Protobuf_Value(stringValue: text), "p": Google_Protobuf_Value(stringValue: padding),
        ]))
    }

    /// Finds the marker in a JSON push frame without decoding the whole frame.
    init?(json buffer: ByteBuffer) {
        let bytes = buffer.readableBytesView
        guard let start = bytes.firstRange(of: #""m":""#.utf8) else { return nil }
        var numbers: [Int64] = []
        numbers.reserveCapacity(4)
        var value: Int64 = 0
        var negative = false
        var digits = 0
        for byte in bytes[start.upperBound...] {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = value &* 10 &+ Int64(byte - UInt8(ascii: "0"))
                digits += 1
            case UInt8(ascii: "-") where digits == 0:
                negative = true
            case UInt8(ascii: "."), UInt8(ascii: "\""):
                guard digits > 0 else { return nil }
                numbers.append(negative ? -value : value)
                value = 0
                digits = 0
                negative = false
                if byte == UInt8(ascii: "\"") {
                    guard numbers.count == 4 else { return nil }
                    self.init(source: Int(numbers[0]), target: Int(numbers[1]), sequence: Int(numbers[2]), sentAt: numbers[3])
                    return
                }
            default:
                return nil
            }
        }
        return nil
    }

    /// Decodes a binary (protobuf) push frame and reads the marker from it.
    init?(protobuf buffer: ByteBuffer) {
        guard let frame = try? Switchboard_V1_ServerFrame(serializedBytes: Array(buffer.readableBytesView)),
            case .push(let push)? = frame.body,
            case .structValue(let fields)? = push.data.kind,
            case .stringValue(let text)? = fields.fields["m"]?.kind
        else { return nil }
        let parts = text.split(separator: ".").compactMap { Int64($0) }
        guard parts.count == 4 else { return nil }
        self.init(source: Int(parts[0]), target: Int(parts[1]), sequence: Int(parts[2]), sentAt: parts[3])
    }

    init(source: Int, target: Int, sequence: Int, sentAt: Int64) {
        self.source = source
        self.target = target
        self.sequence = sequence
        self.sentAt = sentAt
    }

    init?(_ event: BenchSocket.Event) {
        switch event {
        case .text(let buffer): self.init(json: buffer)
        case .binary(let buffer): self.init(protobuf: buffer)
        case .closed: return nil
        }
    }
}
