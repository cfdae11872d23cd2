package import NIOCore

extension ByteBuffer {
    /// `{"epoch":"…","offset":17}`: a position as push frames and send answers write it.
    package mutating func writeJSON(_ position: InboxPosition) {
        writeStaticString(#"{"epoch":"#)
        writeJSONString(position.epoch)
        writeStaticString(#","offset":"#)
        writeString(String(position.offset))
        writeStaticString("}")
    }
}
