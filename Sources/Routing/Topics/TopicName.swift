/// The one rule for topic names, wherever one enters (a client's subscribe or publish, a
/// token's `topics` claim, a backend's request): 1 to 256 bytes of printable ASCII except
/// space, `*`, `{`, `}`, `"` and `\`, with a namespace before the first `:`. `*` is kept
/// for the claim's patterns, braces for Redis Cluster hash tags, and the name needs no
/// escaping in JSON.
package enum TopicName {
    package static let maxBytes = 256

    /// Why `topic` is not a valid topic name; nil when it is.
    package static func problem(_ topic: String) -> String? {
        let bytes = topic.utf8
        guard !bytes.isEmpty else { return "a topic name cannot be empty" }
        guard bytes.count <= maxBytes else { return "a topic name is at most \(maxBytes) bytes (this one has \(bytes.count))" }
        for byte in bytes where !isAllowed(byte) {
            return "a topic name is printable ASCII without space, '*', '{', '}', '\"' or '\\' (found \(describe(byte)))"
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon != bytes.startIndex else {
            return "a topic name begins with its namespace and a ':' (as in room:42)"
        }
        return nil
    }

    /// The part before the first `:` of a valid name.
    package static func namespace(of topic: String) -> Substring {
        topic.prefix { $0 != ":" }
    }

    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x21...0x7E: !"*{}\"\\".utf8.contains(byte)
        default: false
        }
    }

    private static func describe(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }
}
