import NIOCore

/// One connection's allowance for client operations: messages per second and bytes per
/// second, each with a burst. A frame past either is refused (`rate_limited`) and not
/// handled; a client that keeps sending while refused — more refusals in a row than its
/// message burst — is abusing and gets closed (4029).
struct RateLimiter {
    enum Decision: Equatable {
        case allow
        case refuse
        case close
    }

    private var messages: TokenBucket
    private var bytes: TokenBucket
    private var refusedInARow = 0

    init(messagesPerSecond: Double, messageBurst: Double, bytesPerSecond: Double, byteBurst: Double) {
        messages = TokenBucket(rate: messagesPerSecond, burst: messageBurst)
        bytes = TokenBucket(rate: bytesPerSecond, burst: byteBurst)
    }

    var messageRate: Double { messages.rate }
    var byteRate: Double { bytes.rate }

    mutating func admit(bytes count: Int, now: NIODeadline) -> Decision {
        // A frame refused for its bytes gives its message token back: it was not handled.
        if messages.take(1, now: now) {
            if bytes.take(Double(count), now: now) {
                refusedInARow = 0
                return .allow
            }
            messages.giveBack(1)
        } else {
            _ = bytes.take(0, now: now)  // keeps its clock current
        }
        refusedInARow += 1
        return Double(refusedInARow) > messages.burst ? .close : .refuse
    }
}
