import SwiftProtobuf

extension SwiftProtobuf.Message {
    /// This message as a push's `data`: protobuf's JSON mapping with 64-bit numbers as
    /// numbers, so a push carries `sentAtMs` the way the matching call's answer does
    /// (docs/protocol.md § Numbers).
    func pushData() throws -> Google_Protobuf_Value {
        var options = JSONEncodingOptions()
        options.alwaysPrintInt64sAsNumbers = true
        return try Google_Protobuf_Value(jsonString: try jsonString(options: options))
    }
}
