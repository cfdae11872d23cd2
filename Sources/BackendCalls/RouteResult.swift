package import SwiftProtobuf

/// A call's answer in the form its arguments came in.
package enum RouteResult: Sendable {
    case json(Google_Protobuf_Value)
    case binary([UInt8])
}
