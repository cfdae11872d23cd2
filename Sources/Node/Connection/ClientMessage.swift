import NIOCore

/// One whole message from a client: a text frame (already checked to be UTF-8) or a
/// binary one, its fragments joined.
enum ClientMessage: Sendable {
    case text(String)
    case binary(ByteBuffer)
}
