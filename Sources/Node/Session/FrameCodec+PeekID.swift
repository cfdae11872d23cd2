import NIOCore

extension FrameCodec {
    /// The frame's id without decoding the frame, for answering one that will not be
    /// handled (past the rate limit) at a cost that does not grow with its size: found
    /// when the id comes first — `{"id":"…"` in JSON (without escapes), field 1 in
    /// protobuf (where encoders put it) — else "".
    static func peekID(_ message: ClientMessage) -> String {
        switch message {
        case .text(let text):
            var utf8 = text.utf8[...]
            while let first = utf8.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\n") || first == UInt8(ascii: "\r") || first == UInt8(ascii: "\t") {
                utf8 = utf8.dropFirst()
            }
            let prefix = #"{"id":""#.utf8
            guard utf8.starts(with: prefix) else { return "" }
            let rest = utf8.dropFirst(prefix.count).prefix(256)
            guard let end = rest.firstIndex(of: UInt8(ascii: "\"")), !rest[..<end].contains(UInt8(ascii: "\\")) else { return "" }
            return String(decoding: rest[..<end], as: UTF8.self)
        case .binary(let buffer):
            var bytes = buffer
            // Field 1, length-delimited, a length under 128 (one varint byte).
            guard bytes.readInteger(as: UInt8.self) == 0x0A, let length = bytes.readInteger(as: UInt8.self), length < 0x80,
                  let id = bytes.readString(length: Int(length))
            else { return "" }
            return id
        }
    }
}
