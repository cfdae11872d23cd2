import NIOCore

/// The PROXY protocol header (HAProxy's, versions 1 and 2) a load balancer puts before a
/// client's bytes: the address the client really connected from. Read only from
/// `trusted-proxies`; anyone else could name any address.
enum ProxyHeader: Equatable {
    /// The client's address as text ("203.0.113.7", "2001:db8::1"); nil for a connection
    /// the proxy made itself (v2 LOCAL, v1 UNKNOWN: its health checks).
    case proxied(source: String?, length: Int)
    /// Not enough bytes yet to decide.
    case incomplete
    /// Not a PROXY header, or a malformed one.
    case invalid(String)

    /// v1's longest line (107 bytes), and a bound on v2's addresses and TLVs.
    static let maxV1Bytes = 107
    static let maxV2Bytes = 16 + 2048

    private static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    /// Reads a header at the start of `bytes`.
    static func parse(_ bytes: ByteBuffer) -> ProxyHeader {
        let view = bytes.readableBytesView
        guard let first = view.first else { return .incomplete }
        if first == UInt8(ascii: "P") { return parseV1(view) }
        if first == 0x0D { return parseV2(view) }
        return .invalid("the connection did not start with a PROXY protocol header")
    }

    private static func parseV1(_ view: ByteBufferView) -> ProxyHeader {
        let prefix = Array("PROXY ".utf8)
        guard view.starts(with: prefix.prefix(view.count)) else { return .invalid("not a PROXY v1 header") }
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            return view.count >= maxV1Bytes ? .invalid("PROXY v1 header longer than \(maxV1Bytes) bytes") : .incomplete
        }
        let length = newline - view.startIndex + 1
        guard length <= maxV1Bytes, newline > view.startIndex, view[newline - 1] == UInt8(ascii: "\r") else {
            return .invalid("PROXY v1 header not ended by CRLF within \(maxV1Bytes) bytes")
        }
        let line = String(decoding: view[view.startIndex..<(newline - 1)], as: UTF8.self)
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count >= 2 else { return .invalid("PROXY v1 header without a protocol") }
        switch fields[1] {
        case "UNKNOWN":
            return .proxied(source: nil, length: length)
        case "TCP4", "TCP6":
            guard fields.count == 6, let address = try? SocketAddress(ipAddress: String(fields[2]), port: 0),
                  address.protocol == (fields[1] == "TCP4" ? .inet : .inet6),
                  UInt16(fields[4]) != nil, UInt16(fields[5]) != nil, (try? SocketAddress(ipAddress: String(fields[3]), port: 0)) != nil
            else { return .invalid("malformed PROXY v1 addresses") }
            return .proxied(source: address.ipAddress, length: length)
        default:
            return .invalid("PROXY v1 protocol must be TCP4, TCP6 or UNKNOWN")
        }
    }

    private static func parseV2(_ view: ByteBufferView) -> ProxyHeader {
        let bytes = Array(view.prefix(16))
        guard bytes.starts(with: v2Signature.prefix(bytes.count)) else { return .invalid("not a PROXY v2 signature") }
        guard bytes.count == 16 else { return .incomplete }
        let versionCommand = bytes[12]
        guard versionCommand >> 4 == 2 else { return .invalid("PROXY v2 with version \(versionCommand >> 4)") }
        let addressLength = Int(bytes[14]) << 8 | Int(bytes[15])
        let length = 16 + addressLength
        guard length <= maxV2Bytes else { return .invalid("PROXY v2 header longer than \(maxV2Bytes) bytes") }
        guard view.count >= length else { return .incomplete }
        switch versionCommand & 0x0F {
        case 0x0:  // LOCAL: the proxy's own connection
            return .proxied(source: nil, length: length)
        case 0x1:  // PROXY
            let body = Array(view[(view.startIndex + 16)..<(view.startIndex + length)])
            switch bytes[13] {
            case 0x11, 0x12:  // TCP or UDP over IPv4: source, destination, ports
                guard body.count >= 12 else { return .invalid("PROXY v2 IPv4 addresses too short") }
                return .proxied(source: body[0..<4].map(String.init).joined(separator: "."), length: length)
            case 0x21, 0x22:  // over IPv6
                guard body.count >= 36 else { return .invalid("PROXY v2 IPv6 addresses too short") }
                let address = try? SocketAddress(packedIPAddress: ByteBuffer(bytes: body[0..<16]), port: 0)
                return .proxied(source: address?.ipAddress, length: length)
            default:  // UNSPEC or a Unix socket: no client address
                return .proxied(source: nil, length: length)
            }
        default:
            return .invalid("PROXY v2 command \(versionCommand & 0x0F)")
        }
    }
}
