#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
package import NIOCore

/// A client's source address as limits count it, and the address ranges of trusted
/// proxies. IPv6 sources count per /64: one host usually holds a whole /64, so counting
/// single addresses would give it 2⁶⁴ quotas.
package struct SourceAddress: Hashable, Sendable {
    /// 4 bytes (IPv4, also for IPv4-mapped IPv6) or 16.
    package let bytes: [UInt8]

    package init?(_ text: String) {
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        self.init(address)
    }

    package init?(_ address: SocketAddress) {
        guard let text = address.ipAddress else { return nil }
        var raw = [UInt8](repeating: 0, count: 16)
        switch address.protocol {
        case .inet:
            guard inet_pton(AF_INET, text, &raw) == 1 else { return nil }
            bytes = Array(raw.prefix(4))
        case .inet6:
            guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
            let mapped = raw.prefix(10).allSatisfy { $0 == 0 } && raw[10] == 0xFF && raw[11] == 0xFF
            bytes = mapped ? Array(raw.suffix(4)) : raw
        default:
            return nil
        }
    }

    /// The key limits count under: the address itself for IPv4, its /64 for IPv6.
    package var limitKey: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 8, by: 2).map { String(Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}

/// An address range in CIDR notation ("10.0.0.0/8", "2001:db8::/32", or one address).
package struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    package let network: SourceAddress
    package let prefixLength: Int

    package init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let network = SourceAddress(String(first)) else { return nil }
        let bits = network.bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.network = network
    }

    package func contains(_ address: SourceAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var left = prefixLength
        for (a, b) in zip(address.bytes, network.bytes) where left > 0 {
            let mask: UInt8 = left >= 8 ? 0xFF : ~(0xFF >> UInt8(left))
            guard a & mask == b & mask else { return false }
            left -= 8
        }
        return true
    }

    package var description: String {
        let address = network.bytes.count == 4
            ? network.bytes.map(String.init).joined(separator: ".")
            : (try? SocketAddress(packedIPAddress: ByteBuffer(bytes: network.bytes), port: 0).ipAddress ?? "") ?? ""
        return "\(address)/\(prefixLength)"
    }
}
