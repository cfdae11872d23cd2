package import SwiftProtobuf

extension PushPayload {
    /// The push as a `Value` (in `switchboard.inbox` answers): the fields of a push frame.
    package var protobufValue: Google_Protobuf_Value {
        var fields: [String: Google_Protobuf_Value] = [
            "from": .init(stringValue: from), "kind": .init(stringValue: kind), "origin": .init(stringValue: origin.rawValue),
        ]
        if data != nil { fields["data"] = value() }
        if let position { fields["position"] = position.protobufValue }
        return .init(structValue: .init(fields: fields))
    }
}
