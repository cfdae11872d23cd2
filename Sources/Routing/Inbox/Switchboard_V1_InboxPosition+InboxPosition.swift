package import SwitchboardProtocol

extension Switchboard_V1_InboxPosition {
    package init(_ position: InboxPosition) {
        self.init()
        epoch = position.epoch
        offset = position.offset
    }

    package var position: InboxPosition { InboxPosition(epoch: epoch, offset: offset) }
}
