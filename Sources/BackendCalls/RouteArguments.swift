package import SwiftProtobuf

/// A call's arguments as the client sent them: JSON (`data`) or the encoded request
/// message (`payload`, binary frames).
package enum RouteArguments: Sendable {
    case json(Google_Protobuf_Value)
    case binary([UInt8])
}
