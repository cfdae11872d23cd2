import SwitchboardProtocol

/// A client's envelope, and whether it came as protobuf (a call's payload is passed on
/// in the form it came in).
struct DecodedFrame: Sendable {
    let frame: Switchboard_V1_ClientFrame
    let binary: Bool
}
