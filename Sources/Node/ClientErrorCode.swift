import SwitchboardProtocol

/// The stable error codes a client can see in `error.code` (docs/protocol.md lists them).
enum ClientErrorCode: String, Sendable {
    /// The frame could not be decoded, or named no operation.
    case badFrame = "bad_frame"
    /// A required field is missing or has the wrong type.
    case invalidArgument = "invalid_argument"
    /// No route is configured for the called name.
    case unknownRoute = "unknown_route"
    /// The target user has no connection anywhere.
    case offline
    /// A dependency (presence, relay, a backend) cannot be reached right now.
    case unavailable
    /// (HTTP 401 at connect) The token is missing, malformed, wrongly signed or expired.
    case unauthenticated
    /// (HTTP 503 at connect) The node is shutting down.
    case draining
    /// (HTTP 426) `GET /ws` without a WebSocket upgrade.
    case upgradeRequired = "upgrade_required"
    /// A bug or an unexpected failure in the node.
    case `internal`
}

extension Switchboard_V1_Error {
    init(code: ClientErrorCode, message: String) {
        self.init()
        self.code = code.rawValue
        self.message = message
    }
}
