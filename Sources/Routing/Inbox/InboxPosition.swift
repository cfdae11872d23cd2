/// A place in a user's inbox or a topic's history. The epoch names one life of it (a new
/// one begins when it expired or Redis lost it); within an epoch, offsets count its
/// pushes up by one, so a client sees a gap as a jump.
package struct InboxPosition: Hashable, Sendable, CustomStringConvertible {
    package var epoch: String
    package var offset: UInt64

    package init(epoch: String, offset: UInt64) {
        self.epoch = epoch
        self.offset = offset
    }

    package var description: String { "\(epoch):\(offset)" }
}
