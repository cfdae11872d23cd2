import NIOCore
import NIOWebSocket
import SwiftProtobuf
import SwitchboardProtocol

/// Turns WebSocket messages into envelopes and envelopes into frames.
///
/// The frame's own opcode picks the decoder (text: JSON, binary: protobuf), so a client
/// may mix them; replies use the connection's negotiated format.
enum FrameCodec {
    /// Unknown JSON fields are ignored so that newer clients work with older nodes.
    private static let jsonDecoding: JSONDecodingOptions = {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return options
    }()

    static func decode(text: String) throws -> Switchboard_V1_ClientFrame {
        try Switchboard_V1_ClientFrame(jsonString: text, options: jsonDecoding)
    }

    static func decode(binary: ByteBuffer) throws -> Switchboard_V1_ClientFrame {
        try Switchboard_V1_ClientFrame(serializedBytes: Array(binary.readableBytesView))
    }

    static func encode(_ frame: Switchboard_V1_ServerFrame, as format: WireFormat) -> EncodedFrame {
        do {
            switch format {
            case .json:
                let bytes: [UInt8] = try frame.jsonUTF8Bytes()
                return EncodedFrame(opcode: .text, data: ByteBuffer(bytes: bytes))
            case .protobuf:
                let bytes: [UInt8] = try frame.serializedBytes()
                return EncodedFrame(opcode: .binary, data: ByteBuffer(bytes: bytes))
            }
        } catch {
            // Only non-finite numbers in a Value fail to encode; say so instead of dropping the frame.
            var failure = Switchboard_V1_ServerFrame()
            failure.id = frame.id
            failure.error = .init(code: .internal, message: "the reply could not be encoded: \(error)")
            return encode(failure, as: format)
        }
    }
}
