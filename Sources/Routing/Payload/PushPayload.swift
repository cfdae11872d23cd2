package import SwiftProtobuf

/// A push as it travels: who sent it, its kind, and its data as the JSON text the sender
/// wrote — checked once where it entered (well-formed, nested at most `maxDepth`) and
/// never decoded on the way. Each receiving node encodes it once per wire format.
package struct PushPayload: Sendable, Equatable {
    /// Who really sent a push: set by the node where it entered, never by the sender.
    package enum Origin: String, Sendable {
        /// A client's send: `from` is its authenticated user id.
        case user
        /// The Gateway API: `from` is whatever name the backend gave.
        case backend
    }

    package var from: String
    package var kind: String
    /// JSON text, or nil for a push without data.
    package var data: [UInt8]?
    package var origin: Origin
    /// The user whose call made a backend send it (a chat message's sender): that user's
    /// traffic. Nil: none (a client's send, a backend's own push).
    package var causedBy: String?
    /// Set on a durable push once it is stored: its place in the receiver's inbox.
    package var position: InboxPosition?
    /// Set on a push published to a topic: which one (subscribers see it as `push.topic`).
    package var topic: String?

    /// Whether a user, not a backend of its own accord, is behind it: a client's send, or a
    /// backend's push caused by a user's call. Such pushes are shed when the receiver reads
    /// slowly, so that no user can get another closed as a slow consumer.
    package var isUserTraffic: Bool { source != nil }

    /// The user behind it, whose share of the receiver's inbox it counts against; nil for a
    /// backend's own push (those are never limited by source).
    package var source: String? { origin == .user ? from : causedBy }

    /// How deep arrays and objects may nest in `data`: deeper data is refused where it enters.
    package static let maxDepth = 32

    /// `data` must have been checked (`checkedJSON`).
    package init(from: String, kind: String, data: [UInt8]?, origin: Origin = .user) {
        self.from = from
        self.kind = kind
        self.data = data
        self.origin = origin
    }

    /// From a protobuf `Value` (protobuf clients, backends): its JSON text, checked like a
    /// JSON client's. An unset value is no data.
    package init(from: String, kind: String, value: Google_Protobuf_Value, origin: Origin = .user) throws(PayloadError) {
        self.from = from
        self.kind = kind
        self.origin = origin
        guard value.kind != nil else {
            data = nil
            return
        }
        let text: [UInt8]
        do {
            text = try value.plainJSONBytes()
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
