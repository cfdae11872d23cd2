/// Part of a user's inbox, read to resume a connection or to fill a gap a client saw.
package struct InboxRead: Sendable {
    /// The inbox's epoch; nil when the user has no inbox (nothing stored, or it expired).
    package var epoch: String?
    /// The latest durable push's offset (0: none).
    package var latest: UInt64
    /// The oldest offset still kept (0: none).
    package var oldest: UInt64
    /// The pushes after the asked position, in order, each with its position.
    package var pushes: [PushPayload]

    package init(epoch: String?, latest: UInt64, oldest: UInt64, pushes: [PushPayload]) {
        self.epoch = epoch
        self.latest = latest
        self.oldest = oldest
        self.pushes = pushes
    }

    /// Where the inbox stands now: resume from here.
    package var position: InboxPosition { InboxPosition(epoch: epoch ?? "", offset: latest) }

    /// Whether `pushes` is everything stored after `after` (an epoch of nil trusts the
    /// offset; offset 0 asks for everything there is). False when the inbox no longer
    /// reaches back that far: it was trimmed, expired, or began a new epoch since.
    package func recovers(after: InboxPosition?) -> Bool {
        guard let after, after.offset > 0 else { return true }
        guard let epoch else { return false }  // the inbox the client knew is gone
        if !after.epoch.isEmpty && after.epoch != epoch { return false }
        if after.offset > latest { return false }  // not a position of this inbox
        return after.offset >= latest || after.offset + 1 >= oldest
    }
}
