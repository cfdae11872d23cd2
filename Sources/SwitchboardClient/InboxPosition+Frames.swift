import SwiftProtobuf
import SwitchboardWire

extension InboxPosition {
    init(_ position: Switchboard_V1_InboxPosition) {
        self.init(epoch: position.epoch, offset: position.offset)
    }

    /// From `{"epoch": …, "offset": …}` in an answer.
    init(_ value: Google_Protobuf_Value) {
        let fields = value.structValue.fields
        self.init(epoch: fields["epoch"]?.stringValue ?? "", offset: UInt64(max(fields["offset"]?.numberValue ?? 0, 0)))
    }
}
