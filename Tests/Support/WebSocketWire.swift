/// WebSocket frames as bytes, for tests that must write what no client library would
/// (unmasked frames, RSV bits, reserved opcodes, broken fragments) and read the node's
/// frames back off a `RawConnection`.
package enum WebSocketWire {
    package struct Frame: Equatable, Sendable {
        package let fin: Bool
        package let opcode: UInt8
        package let payload: [UInt8]

        package var text: String { String(decoding: payload, as: UTF8.self) }
        /// A close frame's code (nil without one).
        package var closeCode: Int? { payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : nil }
    }

    package static let continuation: UInt8 = 0, text: UInt8 = 1, binary: UInt8 = 2
    package static let close: UInt8 = 8, ping: UInt8 = 9, pong: UInt8 = 10

    /// One frame as a client writes it: masked unless told otherwise.
    package static func frame(
        _ opcode: UInt8, _ payload: [UInt8] = [], fin: Bool = true, rsv: UInt8 = 0, masked: Bool = true
    ) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | (rsv & 0x7) << 4 | (opcode & 0xF)]
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch payload.count {
        case ..<126:
            bytes.append(maskBit | UInt8(payload.count))
        case ..<65536:
            bytes.append(maskBit | 126)
            bytes += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            bytes.append(maskBit | 127)
            bytes += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        guard masked else { return bytes + payload }
        let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        bytes += key
        bytes += payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        return bytes
    }

    package static func frame(_ opcode: UInt8, _ text: String, fin: Bool = true) -> [UInt8] {
        frame(opcode, Array(text.utf8), fin: fin)
    }

    /// A close frame's payload: the code, then the reason's bytes.
    package static func closePayload(_ code: Int, _ reason: [UInt8] = []) -> [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
    }

    /// The complete (unmasked, server) frames at the start of `bytes`, in order.
    package static func parse(_ bytes: [UInt8]) -> [Frame] {
        var frames: [Frame] = []
        var index = 0
        while bytes.count - index >= 2 {
            let first = bytes[index], second = bytes[index + 1]
            var length = Int(second & 0x7F)
            var offset = index + 2
            if length == 126 {
                guard bytes.count >= offset + 2 else { break }
                length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
                offset += 2
            } else if length == 127 {
                guard bytes.count >= offset + 8 else { break }
                length = bytes[offset..<offset + 8].reduce(0) { $0 << 8 | Int($1) }
                offset += 8
            }
            guard bytes.count >= offset + length else { break }
            frames.append(Frame(fin: first & 0x80 != 0, opcode: first & 0xF, payload: Array(bytes[offset..<offset + length])))
            index = offset + length
        }
        return frames
    }
}
