/// A place in the user's inbox of durable pushes (docs/protocol.md § Resume). The epoch
/// names one life of the inbox; within it, offsets count durable pushes up by one.
public struct InboxPosition: Sendable, Hashable, CustomStringConvertible {
    public var epoch: String
    public var offset: UInt64

    public init(epoch: String, offset: UInt64) {
        self.epoch = epoch
        self.offset = offset
    }

    /// Everything the inbox holds: resume from here to get what was stored before this
    /// client ever connected.
    public static let beginning = InboxPosition(epoch: "", offset: 0)

    public var description: String { "\(epoch):\(offset)" }
}
