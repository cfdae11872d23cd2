import NIOCore

/// One connection's allowance for client operations: messages per second and bytes per
/// second, each with a burst. A frame past either is refused (`rate_limited`) and not
/// handled. Refusals are forgiven at the message rate up to the message burst; a client
/// that keeps sending regardless — more refusals than that forgives, as a client sending
/// at well over twice its rate soon has — is abusing and gets closed (4029).
struct RateLimiter {
    enum Decision: Equatable {
        case allow
        case refuse
        case close
    }

    private var messages: TokenBucket
    private var bytes: TokenBucket
    private var forgiveness: TokenBucket

    init(messagesPerSecond: Double, messageBurst: Double, bytesPerSecond: Double, byteBurst: Double) {
        messages = TokenBucket(rate: messagesPerSecond, burst: messageBurst)
        bytes = TokenBucket(rate: bytesPerSecond, burst: byteBurst)
        forgiveness = TokenBucket(rate: messagesPerSecond, burst: messageBurst)
    }

    var messageRate: Double { messages.rate }
    var byteRate: Double { bytes.rate }

    /// `frames`: the wire frames the message came in (its fragments), each a frame of the
    /// allowance.
    mutating func admit(frames: Int = 1, bytes count: Int, now: NIODeadline) -> Decision {
        // A frame refused for its bytes gives its message token back: it was not handled.
        if messages.take(Double(frames), now: now) {
            if bytes.take(Double(count), now: now) { return .allow }
            messages.giveBack(Double(frames))
        } else {
            _ = bytes.take(0, now: now)  // keeps its clock current
        }
        return forgiveness.take(1, now: now) ? .refuse : .close
    }
}
