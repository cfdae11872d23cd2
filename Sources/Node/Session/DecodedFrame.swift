import Routing
package import SwitchboardProtocol

/// A client's envelope, decoded. A send — the one frame on every message's path — keeps
/// its data as the checked JSON text the sender wrote; every other frame is the
/// protobuf envelope, with whether it came as protobuf (a call's payload is passed on in
/// the form it came in).
package enum DecodedFrame: Sendable {
    case send(Send)
    case other(Switchboard_V1_ClientFrame, binary: Bool)

    package struct Send: Sendable {
        let id: String
        let to: String
        let kind: String
        /// Checked JSON text (`PushPayload.checkedJSON`), nil when the send has no data.
        let data: [UInt8]?
    }
}
