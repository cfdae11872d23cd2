#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP address as bytes: 4 for IPv4 (also for an IPv4-mapped IPv6 address), 16 for
/// IPv6. What limits count clients by, and what address ranges match.
package struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    package let bytes: [UInt8]

    /// From its text ("203.0.113.7", "2001:db8::1", "[::1]"); nil for anything else (a
    /// host name).
    package init?(_ text: String) {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        var raw = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, String(text), &raw) == 1 {
            bytes = Array(raw.prefix(4))
        } else if inet_pton(AF_INET6, String(text), &raw) == 1 {
            let mapped = raw.prefix(10).allSatisfy { $0 == 0 } && raw[10] == 0xFF && raw[11] == 0xFF
            bytes = mapped ? Array(raw.suffix(4)) : raw
        } else {
            return nil
        }
    }

    /// The key limits count a client under: the address itself for IPv4, its /64 for
    /// IPv6 (one host usually holds a whole /64; counting single addresses would give it
    /// 2⁶⁴ quotas).
    package var limitKey: String {
        if bytes.count == 4 { return description }
        let groups = stride(from: 0, to: 8, by: 2).map { String(Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }

    package var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        guard inet_ntop(family, bytes, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address range in CIDR notation ("10.0.0.0/8", "2001:db8::/32", or one address).
package struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    package let network: IPAddress
    package let prefixLength: Int

    package init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let network = IPAddress(String(first)) else { return nil }
        let bits = network.bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.network = network
    }

    package func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var left = prefixLength
        for (a, b) in zip(address.bytes, network.bytes) where left > 0 {
            let mask: UInt8 = left >= 8 ? 0xFF : ~(0xFF >> UInt8(left))
            guard a & mask == b & mask else { return false }
            left -= 8
        }
        return true
    }

    package var description: String { "\(network)/\(prefixLength)" }

    /// Loopback, and the private and unique-local ranges a deployment's own servers live
    /// in (RFC 1918, RFC 6598's shared space, RFC 4193, link-local).
    package static let privateNetworks: [AddressRange] = [
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
        "::1/128", "fc00::/7", "fe80::/10",
    ].compactMap(AddressRange.init)
}
