import Foundation

/// The one rule for user ids, wherever one enters (a token's `sub`, a send's `to`, a
/// presence lookup, a backend's request): 1 to 256 bytes of UTF-8, no control characters,
/// no space at either end (`alice` and `alice ` would look like one user), and in Unicode NFC. Ids are then compared byte for byte everywhere: Redis compares
/// bytes, and two NFC strings are canonically equal only when their bytes are, so Swift's
/// `String` equality agrees with Redis (`jos\u{e9}` and `jose\u{301}` cannot both exist).
package enum UserID {
    package static let maxBytes = 256

    /// Why `id` is not a valid user id; nil when it is.
    package static func problem(_ id: String) -> String? {
        let bytes = id.utf8
        guard !bytes.isEmpty else { return "a user id cannot be empty" }
        guard bytes.count <= maxBytes else { return "a user id is at most \(maxBytes) bytes (this one has \(bytes.count))" }
        if let first = id.unicodeScalars.first, let last = id.unicodeScalars.last,
           first.properties.isWhitespace || last.properties.isWhitespace {
            return "a user id cannot begin or end with a space"
        }
        var ascii = true
        for byte in bytes {
            if byte < 0x20 || byte == 0x7F { return "a user id cannot contain control characters" }
            if byte >= 0x80 { ascii = false }
        }
        guard !ascii else { return nil }
        if id.unicodeScalars.contains(where: { (0x80...0x9F).contains($0.value) }) {
            return "a user id cannot contain control characters"
        }
        guard id.precomposedStringWithCanonicalMapping.utf8.elementsEqual(bytes) else {
            return "a user id must be in Unicode NFC (normalise it where it is issued)"
        }
        return nil
    }
}
