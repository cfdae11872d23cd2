#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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

    /// A Gateway API push (from and kind `bench`) carrying it, as a `Value` or as JSON text.
    func content(padding: String, json: Bool) -> Switchboard_Gateway_V1_PushContent {
        var content = Switchboard_Gateway_V1_PushContent()
        content.from = "bench"
        content.kind = "bench"
        if json {
            content.dataJson = Data(#"{"m":"\#(text)","p":"\#(padding)"}"#.utf8)
        } else {
            content.data = data(padding: padding)
        }
        return content
    }

    /// Finds the marker in a JSON push frame without decoding the whole frame, on the raw
    /// bytes and without allocating: the generator reads every delivered frame with this,
    /// and a generic collection search here cost it 6% of its CPU (perf).
    init?(json buffer: ByteBuffer) {
        let found: DeliveryMarker?? = buffer.withUnsafeReadableBytes { bytes -> DeliveryMarker?? in
            guard let after = Self.end(of: #""m":""#, in: bytes) else { return .some(nil) }
            var index = after
            var numbers: (Int64, Int64, Int64, Int64) = (0, 0, 0, 0)
            var count = 0
            var value: Int64 = 0
            var negative = false
            var digits = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    value = value &* 10 &+ Int64(byte - UInt8(ascii: "0"))
                    digits += 1
                case UInt8(ascii: "-") where digits == 0:
                    negative = true
                case UInt8(ascii: "."), UInt8(ascii: "\""):
                    guard digits > 0, count < 4 else { return .some(nil) }
                    let number = negative ? -value : value
                    switch count {
                    case 0: numbers.0 = number
                    case 1: numbers.1 = number
                    case 2: numbers.2 = number
                    default: numbers.3 = number
                    }
                    count += 1
                    (value, digits, negative) = (0, 0, false)
                    if byte == UInt8(ascii: "\"") {
                        guard count == 4 else { return .some(nil) }
                        return DeliveryMarker(source: Int(numbers.0), target: Int(numbers.1), sequence: Int(numbers.2), sentAt: numbers.3)
                    }
                default:
                    return .some(nil)
                }
            }
            return .some(nil)
        }
        guard let marker = found ?? nil else { return nil }
        self = marker
    }

    /// The index just past the first occurrence of `key` in `bytes`.
    private static func end(of key: StaticString, in bytes: UnsafeRawBufferPointer) -> Int? {
        let count = key.utf8CodeUnitCount
        guard bytes.count >= count else { return nil }
        let needle = UnsafeRawBufferPointer(start: key.utf8Start, count: count)
        var index = 0
        while index <= bytes.count - count {
            if bytes[index] == needle[0] {
                var matched = 1
                while matched < count && bytes[index + matched] == needle[matched] { matched += 1 }
                if matched == count { return index + count }
            }
            index += 1
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
        self.init(text: text)
    }

    /// Reads the marker from a push's `data` as a client library hands it over.
    init?(data: Google_Protobuf_Value) {
        guard case .structValue(let fields)? = data.kind, case .stringValue(let text)? = fields.fields["m"]?.kind else { return nil }
        self.init(text: text)
    }

    /// Parses `text` (`source.target.sequence.sentAt`).
    init?(text: String) {
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
