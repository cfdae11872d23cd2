package import NIOCore

extension ByteBuffer {
    /// Writes `text` as a JSON string: quoted, with quotes, backslashes and control
    /// characters escaped, everything else as UTF-8.
    package mutating func writeJSONString(_ text: String) {
        writeInteger(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): writeStaticString(#"\""#)
            case UInt8(ascii: "\\"): writeStaticString(#"\\"#)
            case 0x0A: writeStaticString(#"\n"#)
            case 0x0D: writeStaticString(#"\r"#)
            case 0x09: writeStaticString(#"\t"#)
            case 0..<0x20:
                writeStaticString(#"\u00"#)
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                writeInteger(hex[Int(byte >> 4)])
                writeInteger(hex[Int(byte & 0x0F)])
            default: writeInteger(byte)
            }
        }
        writeInteger(UInt8(ascii: "\""))
    }
}
