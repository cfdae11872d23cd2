import SwiftProtobuf

extension SendOutcome {
    /// From the `ok` of a send's or a publish's answer.
    init(ok fields: [String: Google_Protobuf_Value]) {
        self.init(
            delivered: Int(fields["delivered"]?.numberValue ?? 0), relayedNodes: Int(fields["relayedNodes"]?.numberValue ?? 0),
            position: fields["position"].map { InboxPosition($0) }
        )
    }
}
