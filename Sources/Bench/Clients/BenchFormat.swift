/// The wire format the load generator's clients use.
package enum BenchFormat: String, Sendable, CaseIterable {
    case json
    case protobuf

    var subprotocol: String {
        switch self {
        case .json: "switchboard.v1.json"
        case .protobuf: "switchboard.v1.proto"
        }
    }
}
