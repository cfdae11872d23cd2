/// A refusal or failure, with the protocol's error code (docs/protocol.md § Error codes) or
/// one of the client's own.
public struct SwitchboardClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `offline`, `invalid_argument`, … from the node; or the client's own:
    /// `timeout`, `disconnected` (the connection closed while the call was in flight: it
    /// may or may not have been handled — never resent), `closed`, `unauthenticated`,
    /// `frame_too_large` (past the welcome's `maxFrameBytes`: not sent).
    public let code: String
    public let message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static let disconnected = SwitchboardClientError(
        code: "disconnected", message: "the connection closed before the answer came; the call may or may not have been handled"
    )
    static let closed = SwitchboardClientError(code: "closed", message: "the client was closed")
}
