/// How a connection's frames are encoded, chosen by WebSocket subprotocol at connect
/// (docs/protocol.md § Encodings).
public enum WireFormat: String, Sendable, CaseIterable {
    /// JSON text frames (protobuf's JSON mapping of the envelope): the default.
    case json = "switchboard.v1.json"
    /// Protobuf binary frames of the same envelope.
    case protobuf = "switchboard.v1.proto"

    /// The subprotocol a client offers for it.
    public var subprotocol: String { rawValue }
}
