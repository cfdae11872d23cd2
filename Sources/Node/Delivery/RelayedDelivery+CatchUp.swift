import CoreMetrics
import Logging
import Routing

extension RelayedDelivery {
    /// Each welcomed connection of `user` here reads the inbox after the last durable push
    /// it was sent and takes what it missed while the relay was cut, through its cursor
    /// (none twice, in inbox order). Without it such a push waited for the user's next
    /// durable push (whose gap the client fills) or next connect; the reliability
    /// scorecard saw it arrive seconds late after a Redis restart.
    func relayResumed(user: String) {
        for connection in local.connections(of: user) {
            guard let point = connection.inbox.caughtUpTo else { continue }
            let (bus, metrics, logger) = (bus, metrics, logger)
            Task {
                // Redis may still be loading its data when the channel is acknowledged (it
                // refuses reads meanwhile): tried again, for about 7 s in all.
                for attempt in 1...7 {
                    do {
                        let caughtUp = try await Self.catchUp(connection, after: point, bus: bus)
                        if caughtUp > 0 {
                            metrics.inboxCatchUps.increment(by: Int64(caughtUp))
                            logger.info("durable pushes caught up after a cut in the relay", metadata: ["user": "\(user)", "pushes": "\(caughtUp)"])
                        }
                        return
                    } catch {
                        guard attempt < 7 else {
                            metrics.inboxErrors.increment()
                            logger.warning("the inbox could not be read after a cut in the relay", metadata: ["user": "\(user)", "error": "\(error)"])
                            return
                        }
                        try? await Task.sleep(for: .milliseconds(250 * attempt))
                    }
                }
            }
        }
    }

    /// Queues what the inbox holds after `point` (at most half the queue); how many were new.
    private static func catchUp(_ connection: ClientConnection, after point: InboxPosition, bus: any RelayBus) async throws -> Int {
        let limit = max(connection.queue.maxMessages / 2, 1)
        let maxBytes = connection.queue.maxBytes / 2
        var read = try await bus.readInbox(of: connection.user, after: point.offset, until: nil, limit: limit, maxBytes: maxBytes, beginning: false)
        if let epoch = read.epoch, epoch != point.epoch {
            // A new inbox (the old one expired, or Redis lost it): all of it is new.
            read = try await bus.readInbox(of: connection.user, after: 0, until: nil, limit: limit, maxBytes: maxBytes, beginning: false)
        }
        var caughtUp = 0
        for push in read.pushes {
            guard let position = push.position else { continue }
            if connection.enqueueDurable(FrameCodec.encode(push: push, as: connection.format), at: position, sheddable: false) {
                caughtUp += 1
            }
        }
        return caughtUp
    }
}
