import SwitchboardProtocol
/// The wire format the load generator's clients use.
package enum BenchFormat: String, Sendable, CaseIterable {
    case json
    case protobuf

    var subprotocol: String {
        switch self {
        case .json: WireFormat.json.subprotocol
        case .protobuf: WireFormat.protobuf.subprotocol
        }
    }
}
