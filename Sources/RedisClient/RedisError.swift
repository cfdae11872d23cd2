/// Why a Redis command did not succeed.
package enum RedisError: Error, CustomStringConvertible, Sendable {
    /// Redis cannot be reached now; commands fail fast until it can.
    case unavailable(String)
    /// Redis answered with an error reply.
    case server(String)
    /// A reply larger than the client accepts.
    case replyTooLarge(Int)
    /// The client was closed.
    case closed

    package var description: String {
        switch self {
        case .unavailable(let detail): "redis unavailable: \(detail)"
        case .server(let message): "redis error: \(message)"
        case .replyTooLarge(let bytes): "redis reply of \(bytes) bytes is over the client's limit"
        case .closed: "redis client closed"
        }
    }
}
