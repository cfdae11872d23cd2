import CoreMetrics
import Identity
import Presence
import Logging
import Routing
import SwiftProtobuf
import SwitchboardProtocol

/// The welcome and the resume: where the user's inbox stands, and, when the connect named
/// a position (`?since=`), every durable push after it — then the live ones that waited.
extension ClientSession {
    /// Queues the welcome, the replay and what waited, in that order.
    /// `topics`: the server-side subscriptions restored for this connection.
    func welcome(topics: [String] = []) async {
        var welcome = Switchboard_V1_ServerFrame()
        welcome.welcome.connection = connection.id.description
        welcome.welcome.node = connection.id.nodeID
        welcome.welcome.user = connection.user
        welcome.welcome.inbox.resumed = resumeFrom != nil
        let expiresAtMs = connection.tokenExpiry.expiresAtMs
        if expiresAtMs != .max { welcome.welcome.tokenExpiresAtMs = expiresAtMs }
        welcome.welcome.limits = services.configuration.announcedLimits
        welcome.welcome.topics = topics
        var replay: [PushPayload] = []
        var replayedTo: InboxPosition?
        var livesAfter: InboxPosition?
        do {
            var read = try await services.bus.readInbox(
                of: connection.user, after: resumeFrom?.offset ?? 0, until: nil, limit: resumeFrom == nil ? 0 : replayLimit,
                maxBytes: connection.queue.maxBytes / 2, beginning: true
            )
            if let resumeFrom, read.recovers(after: resumeFrom) {
                let start = InboxPosition(epoch: read.epoch ?? "", offset: resumeFrom.offset)
                replay = fitting(read.pushes)
                replayedTo = replay.last?.position ?? start
                welcome.welcome.inbox.recovered = true
                welcome.welcome.inbox.position = .init(start)
                livesAfter = start
            } else if let resumeFrom, let epoch = read.epoch, !resumeFrom.epoch.isEmpty, resumeFrom.epoch != epoch {
                // The inbox began again since the client's position (it expired, or Redis
                // lost it): the old one's rest is gone (not recovered), but all of the new one
                // came after anything the client saw — replayed from its start, not skipped.
                read = try await services.bus.readInbox(
                    of: connection.user, after: 0, until: nil, limit: replayLimit, maxBytes: connection.queue.maxBytes / 2, beginning: true
                )
                let start = InboxPosition(epoch: read.epoch ?? epoch, offset: 0)
                replay = read.epoch == epoch ? fitting(read.pushes) : []
                replayedTo = replay.last?.position ?? start
                welcome.welcome.inbox.position = .init(start)
                livesAfter = start
                metrics.resumes(recovered: false)
            } else {
                let live = connection.inbox.live(from: read.position)
                welcome.welcome.inbox.position = .init(live)
                livesAfter = live
                if resumeFrom != nil { metrics.resumes(recovered: false) }
            }
            if resumeFrom != nil, welcome.welcome.inbox.recovered { metrics.resumes(recovered: true) }
        } catch {
            metrics.inboxErrors.increment()
            logger.warning("the inbox could not be read; the connection starts live", metadata: ["error": "\(error)"])
        }
        welcome.welcome.inbox.replayed = UInt32(replay.count)
        let format = connection.format
        let first = [FrameCodec.encode(welcome, as: format)] + replay.map { FrameCodec.encode(push: $0, as: format) }
        let connection = self.connection
        connection.inbox.welcome(first: first, replayedTo: replayedTo, livesAfter: livesAfter) { connection.enqueue($0) }
    }

    /// A replay fills at most half the connection's queue (messages and bytes); what it
    /// leaves out the client sees as a gap and fetches with `switchboard.inbox`.
    private var replayLimit: Int { max(connection.queue.maxMessages / 2, 1) }

    private func fitting(_ pushes: [PushPayload]) -> [PushPayload] {
        var bytes = 0
        var count = 0
        for push in pushes {
            bytes += 96 + push.from.utf8.count + push.kind.utf8.count + (push.data?.count ?? 0)
            guard count < replayLimit, bytes <= connection.queue.maxBytes / 2 else { break }
            count += 1
        }
        return Array(pushes.prefix(count))
    }
}
