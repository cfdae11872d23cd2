package import SwiftProtobuf

/// A push as it travels: who sent it, its kind, and its data as the JSON text the sender
/// wrote — checked once where it entered (well-formed, nested at most `maxDepth`) and
/// never decoded on the way. Each receiving node encodes it once per wire format.
package struct PushPayload: Sendable, Equatable {
    package var from: String
    package var kind: String
    /// JSON text, or nil for a push without data.
    package var data: [UInt8]?

    /// How deep arrays and objects may nest in `data`: deeper data is refused where it enters.
    package static let maxDepth = 32

    /// `data` must have been checked (`checkedJSON`).
    package init(from: String, kind: String, data: [UInt8]?) {
        self.from = from
        self.kind = kind
        self.data = data
    }

    /// From a protobuf `Value` (protobuf clients, backends): its JSON text, checked like a
    /// JSON client's. An unset value is no data.
    package init(from: String, kind: String, value: Google_Protobuf_Value) throws(PayloadError) {
        self.from = from
        self.kind = kind
        guard value.kind != nil else {
            data = nil
            return
        }
        let text: [UInt8]
        do {
            text = try value.jsonUTF8Bytes()
        } catch {
            throw PayloadError("data has no JSON form: \(error)")
        }
        data = try Self.checkedJSON(text)
    }

    /// `text` when it is one well-formed JSON value nested at most `maxDepth` deep.
    package static func checkedJSON(_ text: [UInt8]) throws(PayloadError) -> [UInt8] {
        let failure = text.withUnsafeBytes { bytes -> JSONScanner.Failure? in
            var scanner = JSONScanner(bytes)
            do throws(JSONScanner.Failure) {
                try scanner.skipValue(depth: maxDepth)
                scanner.skipWhitespace()
                return scanner.atEnd ? nil : scanner.fail("text after the value")
            } catch {
                return error
            }
        }
        if let failure { throw PayloadError("data is not JSON nested at most \(maxDepth) deep: \(failure)") }
        return text
    }

    /// `data` as a protobuf `Value`, for protobuf receivers (unset when there is none).
    package func value() -> Google_Protobuf_Value {
        guard let data, let value = try? Google_Protobuf_Value(jsonUTF8Bytes: data) else { return Google_Protobuf_Value() }
        return value
    }
}

/// Why a push's data was refused.
package struct PayloadError: Error, CustomStringConvertible {
    package let description: String

    package init(_ description: String) {
        self.description = description
    }
}
