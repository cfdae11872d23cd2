import Essentials
import NIOCore
import Synchronization

/// Closes a connection when its token expires (the queue ends with `.tokenExpired`: what is
/// queued goes out, then close 4001), unless a fresh token moved the moment on. Timed on
/// the connection's event loop, so tests drive it with virtual time.
final class TokenExpiry: Sendable {
    private struct State {
        var expiresAtMs: Int64 = .max
        var task: Scheduled<Void>?
    }

    private let state = Mutex(State())
    private let queue: OutboundQueue
    private let eventLoop: any EventLoop

    init(queue: OutboundQueue, eventLoop: any EventLoop) {
        self.queue = queue
        self.eventLoop = eventLoop
    }

    var expiresAtMs: Int64 { state.withLock { $0.expiresAtMs } }

    /// Farther than this is never: a timer's nanoseconds must fit in an Int64 (292 years).
    static let horizonMs: Int64 = Int64.max / 1_000_000

    /// (Re)schedules the close for `expiresAtMs` (unix ms; `.max`, or past the horizon: never).
    func set(expiresAtMs: Int64, now: Int64 = WallClock.milliseconds) {
        let queue = self.queue
        let delay = expiresAtMs.subtractingReportingOverflow(now)
        let never = expiresAtMs == .max || delay.overflow || delay.partialValue > Self.horizonMs
        let task: Scheduled<Void>? = never ? nil : eventLoop.scheduleTask(in: .milliseconds(max(delay.partialValue, 0))) {
            queue.finish(.tokenExpired)
        }
        let old = state.withLock { state in
            defer {
                state.expiresAtMs = expiresAtMs
                state.task = task
            }
            return state.task
        }
        old?.cancel()
    }

    /// The connection ended: nothing left to time.
    func cancel() {
        state.withLock { $0.task }?.cancel()
    }
}
