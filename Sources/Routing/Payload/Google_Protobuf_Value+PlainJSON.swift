package import NIOCore
package import SwiftProtobuf

extension Google_Protobuf_Value {
    /// The largest magnitude below which every integer is exactly a `Double` (2^53).
    private static let exactIntegerLimit: Double = 9_007_199_254_740_992

    /// This value as JSON the way clients expect it: a whole number is written as an
    /// integer (`1`, `1796057354314`), not as swift-protobuf writes a `Value`'s double
    /// (`1.0`); other numbers in their shortest exact form; object keys sorted, so the
    /// same value is always the same text. Non-finite numbers have no JSON form.
    package func writePlainJSON(into buffer: inout ByteBuffer) throws(PayloadError) {
        switch kind {
        case nil, .nullValue:
            buffer.writeStaticString("null")
        case .boolValue(let flag):
            if flag { buffer.writeStaticString("true") } else { buffer.writeStaticString("false") }
        case .stringValue(let text):
            buffer.writeJSONString(text)
        case .numberValue(let number):
            guard number.isFinite else { throw PayloadError("\(number) has no JSON form") }
            if number == number.rounded(.towardZero), abs(number) < Self.exactIntegerLimit {
                buffer.writeString(String(Int64(number)))
            } else {
                buffer.writeString(number.description)
            }
        case .listValue(let list):
            buffer.writeStaticString("[")
            for (index, element) in list.values.enumerated() {
                if index > 0 { buffer.writeStaticString(",") }
                try element.writePlainJSON(into: &buffer)
            }
            buffer.writeStaticString("]")
        case .structValue(let object):
            buffer.writeStaticString("{")
            for (index, key) in object.fields.keys.sorted().enumerated() {
                if index > 0 { buffer.writeStaticString(",") }
                buffer.writeJSONString(key)
                buffer.writeStaticString(":")
                try object.fields[key]!.writePlainJSON(into: &buffer)
            }
            buffer.writeStaticString("}")
        }
    }

    /// `writePlainJSON` into a new array.
    package func plainJSONBytes() throws(PayloadError) -> [UInt8] {
        var buffer = ByteBuffer()
        try writePlainJSON(into: &buffer)
        return Array(buffer.readableBytesView)
    }
}
