package import SwiftProtobuf

extension InboxPosition {
    /// `{"epoch":…,"offset":…}` in an answer's `Value`.
    package var protobufValue: Google_Protobuf_Value {
        .init(structValue: ["epoch": .init(stringValue: epoch), "offset": .init(numberValue: Double(offset))])
    }
}
