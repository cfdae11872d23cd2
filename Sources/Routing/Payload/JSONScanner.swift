/// A strict JSON reader over bytes (RFC 8259) that checks a value and finds where it
/// lies, without building it: how a send's `data` is checked once and then forwarded as
/// the bytes the sender wrote. Strings in the envelope (`to`, `kind`, `id`) are decoded.
package struct JSONScanner {
    package struct Failure: Error, CustomStringConvertible {
        package let message: String
        package let offset: Int
        package var description: String { "\(message) at byte \(offset)" }

        package init(message: String, offset: Int) {
            self.message = message
            self.offset = offset
        }
    }

    private let bytes: UnsafeRawBufferPointer
    private(set) var position: Int

    package init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        position = 0
    }

    package var atEnd: Bool { position >= bytes.count }

    /// A copy of the bytes in `range` (one that `skipValue` returned).
    package func bytes(in range: Range<Int>) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: bytes[range]))
    }

    package func fail(_ message: String) -> Failure { Failure(message: message, offset: position) }

    package mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    package func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    package mutating func expect(_ byte: UInt8) throws(Failure) {
        skipWhitespace()
        guard peek() == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
        position += 1
    }

    /// Skips one value, checking it; containers may nest `depth` deep at most (a scalar
    /// is depth 0, `[]` is 1). Returns the value's byte range.
    @discardableResult
    package mutating func skipValue(depth: Int) throws(Failure) -> Range<Int> {
        skipWhitespace()
        let start = position
        guard let byte = peek() else { throw fail("expected a value") }
        switch byte {
        case UInt8(ascii: "{"):
            guard depth > 0 else { throw fail("nested too deep") }
            position += 1
            try forEachMember { scanner throws(Failure) in
                _ = try scanner.readString()
                try scanner.expect(UInt8(ascii: ":"))
                try scanner.skipValue(depth: depth - 1)
            }
        case UInt8(ascii: "["):
            guard depth > 0 else { throw fail("nested too deep") }
            position += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                position += 1
            } else {
                while true {
                    try skipValue(depth: depth - 1)
                    skipWhitespace()
                    guard let next = peek() else { throw fail("unterminated array") }
                    position += 1
                    if next == UInt8(ascii: "]") { break }
                    guard next == UInt8(ascii: ",") else { position -= 1; throw fail("expected ',' or ']'") }
                }
            }
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try number()
        }
        return start..<position
    }

    /// Walks an object's members after its `{`, up to and including its `}`; `body` reads
    /// one member (key, colon, value).
    package mutating func forEachMember(_ body: (inout JSONScanner) throws(Failure) -> Void) throws(Failure) {
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            skipWhitespace()
            try body(&self)
            skipWhitespace()
            guard let next = peek() else { throw fail("unterminated object") }
            position += 1
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { position -= 1; throw fail("expected ',' or '}'") }
        }
    }

    /// Reads a string value, decoding its escapes.
    package mutating func readString() throws(Failure) -> String {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string") }
        let start = position + 1
        var escaped = false
        try skipString(sawEscape: &escaped)
        let inner = UnsafeRawBufferPointer(rebasing: bytes[start..<position - 1])
        guard escaped else { return String(decoding: inner, as: UTF8.self) }
        return try Self.unescape(inner, at: start)
    }

    /// Reads a string or `null` (the default, empty).
    package mutating func readOptionalString() throws(Failure) -> String {
        skipWhitespace()
        if peek() == UInt8(ascii: "n") {
            try literal("null")
            return ""
        }
        return try readString()
    }

    private mutating func skipString() throws(Failure) {
        var escaped = false
        try skipString(sawEscape: &escaped)
    }

    private mutating func skipString(sawEscape: inout Bool) throws(Failure) {
        position += 1  // the opening quote
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return
            case UInt8(ascii: "\\"):
                sawEscape = true
                guard let next = peek() else { throw fail("unterminated string") }
                position += 1
                switch next {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    break
                case UInt8(ascii: "u"):
                    for _ in 0..<4 {
                        guard let hex = peek(), Self.hexValue(hex) != nil else { throw fail("bad \\u escape") }
                        position += 1
                    }
                default:
                    throw fail("bad escape")
                }
            case 0..<0x20:
                position -= 1
                throw fail("control character in a string")
            default:
                break
            }
        }
        throw fail("unterminated string")
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw fail("unexpected end") }
        for index in 0..<count where bytes[position + index] != word.utf8Start[index] {
            throw fail("unexpected character")
        }
        position += count
    }

    private mutating func number() throws(Failure) {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), Self.isDigit(first) else { throw fail("unexpected character") }
        position += 1
        if first != UInt8(ascii: "0") { while let byte = peek(), Self.isDigit(byte) { position += 1 } }
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard let byte = peek(), Self.isDigit(byte) else { throw fail("digits expected after '.'") }
            while let byte = peek(), Self.isDigit(byte) { position += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let byte = peek(), Self.isDigit(byte) else { throw fail("digits expected in the exponent") }
            while let byte = peek(), Self.isDigit(byte) { position += 1 }
        }
        if position == start { throw fail("unexpected character") }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// Decodes a checked string's escapes; a lone surrogate is refused.
    private static func unescape(_ inner: UnsafeRawBufferPointer, at offset: Int) throws(Failure) -> String {
        var scalars = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        var index = 0
        func flush() {
            if !utf8.isEmpty {
                scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                utf8.removeAll(keepingCapacity: true)
            }
        }
        func hex4(_ at: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 << 4 | hexValue(inner[at + $1])! }
        }
        while index < inner.count {
            let byte = inner[index]
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                index += 1
                continue
            }
            let kind = inner[index + 1]
            index += 2
            switch kind {
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var value = hex4(index)
                index += 4
                if (0xD800..<0xDC00).contains(value) {
                    guard index + 6 <= inner.count, inner[index] == UInt8(ascii: "\\"), inner[index + 1] == UInt8(ascii: "u") else {
                        throw Failure(message: "lone surrogate in a string", offset: offset + index)
                    }
                    let low = hex4(index + 2)
                    guard (0xDC00..<0xE000).contains(low) else { throw Failure(message: "lone surrogate in a string", offset: offset + index) }
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                } else if (0xDC00..<0xE000).contains(value) {
                    throw Failure(message: "lone surrogate in a string", offset: offset + index)
                }
                flush()
                scalars.append(Unicode.Scalar(value)!)
            default: utf8.append(kind)  // " \ /
            }
        }
        flush()
        return String(scalars)
    }
}
