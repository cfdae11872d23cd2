import SwiftProtobuf
import SwitchboardWire

extension Push {
    /// From a push frame.
    init(_ push: Switchboard_V1_Push) {
        self.init(
            from: push.from, kind: push.kind, data: push.data, origin: Origin(rawValue: push.origin) ?? .backend,
            position: push.hasPosition ? InboxPosition(push.position) : nil, topic: push.topic.isEmpty ? nil : push.topic
        )
    }

    /// From a `switchboard.inbox` answer's entry.
    init(value: Google_Protobuf_Value) {
        let fields = value.structValue.fields
        self.init(
            from: fields["from"]?.stringValue ?? "", kind: fields["kind"]?.stringValue ?? "", data: fields["data"] ?? .init(),
            origin: Origin(rawValue: fields["origin"]?.stringValue ?? "") ?? .backend, position: fields["position"].map { InboxPosition($0) }
        )
    }
}
