import SwitchboardProtocol
import NIOWebSocket

/// Why a connection ended: the close code the client sees and the metrics label.
enum CloseReason: String, Sendable, CaseIterable {
    /// The client closed, or its socket went away.
    case client
    /// The outbound queue passed a limit (close 4008; documented in docs/protocol.md).
    case slowConsumer = "slow_consumer"
    /// A message over `max-frame-bytes` (1009).
    case tooLarge = "too_large"
    /// A text frame that is not UTF-8 (1007).
    case invalidUTF8 = "invalid_utf8"
    /// A WebSocket protocol violation (1002).
    case protocolError = "protocol_error"
    /// The node is draining (1012, "service restart"): reconnect, and land elsewhere.
    case shutdown
    /// A backend disconnected the user through the Gateway API (4003).
    case disconnected
    /// The token expired and the client sent no fresh one (4001).
    case tokenExpired = "token_expired"
    /// The client answered no ping within the ping interval (1001, "ping timeout").
    case pingTimeout = "ping_timeout"
    /// The client kept sending past its rate limit while refused (4029).
    case rateLimited = "rate_limited"
    /// Something unexpected in the node (1011).
    case error

    /// WebSocket close code 1012 (IANA: Service Restart): clients reconnect at once.
    static let restartCode = WebSocketErrorCode(codeNumber: CloseCode.serviceRestart.rawValue)
    /// WebSocket close code 4008: the client did not read fast enough.
    static let slowConsumerCode = WebSocketErrorCode(codeNumber: CloseCode.slowConsumer.rawValue)
    /// WebSocket close code 4029 (as HTTP 429): sustained sending past the rate limit.
    static let rateLimitedCode = WebSocketErrorCode(codeNumber: CloseCode.rateLimited.rawValue)
    /// WebSocket close code 4003: a backend disconnected the user.
    static let disconnectedCode = WebSocketErrorCode(codeNumber: CloseCode.disconnected.rawValue)
    /// WebSocket close code 4001: the token expired; reconnect with a fresh one.
    static let tokenExpiredCode = WebSocketErrorCode(codeNumber: CloseCode.tokenExpired.rawValue)

    init(closeCode: WebSocketErrorCode) {
        switch closeCode {
        case .messageTooLarge: self = .tooLarge
        case .dataInconsistentWithMessage: self = .invalidUTF8
        case .protocolError: self = .protocolError
        case .goingAway, Self.restartCode: self = .shutdown
        case .normalClosure: self = .client
        case Self.slowConsumerCode: self = .slowConsumer
        case Self.disconnectedCode: self = .disconnected
        case Self.rateLimitedCode: self = .rateLimited
        default: self = .error
        }
    }
}
