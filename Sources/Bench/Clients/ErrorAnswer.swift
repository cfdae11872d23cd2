import NIOCore
import SwiftProtobuf
import SwitchboardProtocol

/// A node's error answer (`{"id":…,"error":{"code":…,"message":…}}`, or its protobuf
/// form), as the generator books it: apart from deliveries, with its text.
struct ErrorAnswer: Sendable {
    /// `code: message`, or the frame itself when it cannot be read that way.
    let text: String

    init?(_ event: BenchSocket.Event) {
        switch event {
        case .text(let buffer):
            let json = String(buffer: buffer)
            guard json.contains(#""error":{"#) else { return nil }
            text = String(json.prefix(300))
        case .binary(let buffer):
            guard let frame = try? Switchboard_V1_ServerFrame(serializedBytes: Array(buffer.readableBytesView)),
                case .error(let error)? = frame.body
            else { return nil }
            text = "\(error.code): \(error.message)"
        case .closed:
            return nil
        }
    }
}
