import NIOCore
import Essentials
@testable import Node
import Testing

/// The PROXY protocol header (v1 and v2) as trusted load balancers send it, and the source
/// addresses limits count (IPv6 per /64).
@Suite("PROXY protocol and source addresses")
struct ProxyProtocolTests {
    private func parse(_ bytes: [UInt8]) -> ProxyHeader { ProxyHeader.parse(ByteBuffer(bytes: bytes)) }
    private func parse(_ text: String) -> ProxyHeader { parse(Array(text.utf8)) }

    private static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    static func v2(command: UInt8 = 0x21, family: UInt8, addresses: [UInt8]) -> [UInt8] {
        signature + [command, family, UInt8(addresses.count >> 8), UInt8(addresses.count & 0xFF)] + addresses
    }

    @Test("v1: TCP4, TCP6 and UNKNOWN read, with the header's length; partial lines wait; malformed ones are refused")
    func version1() {
        let line = "PROXY TCP4 203.0.113.7 10.0.0.1 51234 8080\r\n"
        #expect(parse(line + "GET / HTTP/1.1\r\n") == .proxied(source: "203.0.113.7", length: line.utf8.count))
        let six = "PROXY TCP6 2001:db8::7 2001:db8::1 51234 8080\r\n"
        #expect(parse(six) == .proxied(source: "2001:db8::7", length: six.utf8.count))
        #expect(parse("PROXY UNKNOWN\r\n") == .proxied(source: nil, length: 15))
        #expect(parse("PROXY TCP4 203.0.") == .incomplete)
        #expect(parse("PRO") == .incomplete)
        for bad in [
            "PROXY TCP4 203.0.113.7 10.0.0.1 51234\r\n", "PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n", "PROXY TCP4 a b 1 2\r\n",
            "PROXY UDP4 203.0.113.7 10.0.0.1 1 2\r\n", "PROXY TCP4 203.0.113.7 10.0.0.1 1 2\n", "GET / HTTP/1.1\r\n",
            "PROXY TCP4 203.0.113.7 10.0.0.1 1 99999\r\n", "PROXY " + String(repeating: "x", count: 200),
        ] {
            guard case .invalid = parse(bad) else {
                Issue.record("accepted \(bad.debugDescription)")
                continue
            }
        }
    }

    @Test("v2: PROXY over IPv4 and IPv6, LOCAL (the proxy's health check), TLVs skipped; partial headers wait; bad ones are refused")
    func version2() {
        let ipv4 = Self.v2(family: 0x11, addresses: [203, 0, 113, 9, 10, 0, 0, 1, 0xC8, 0x32, 0x1F, 0x90] + [0x04, 0, 1, 0])
        #expect(parse(ipv4 + Array("GET".utf8)) == .proxied(source: "203.0.113.9", length: ipv4.count))
        var source = [UInt8](repeating: 0, count: 16)
        source[0] = 0x20; source[1] = 0x01; source[2] = 0x0D; source[3] = 0xB8; source[15] = 9
        let ipv6 = Self.v2(family: 0x21, addresses: source + [UInt8](repeating: 0, count: 16) + [0, 1, 0, 2])
        #expect(parse(ipv6) == .proxied(source: "2001:db8::9", length: ipv6.count))
        let local = Self.v2(command: 0x20, family: 0x00, addresses: [])
        #expect(parse(local) == .proxied(source: nil, length: 16))
        #expect(parse(Array(ipv4.prefix(10))) == .incomplete)
        #expect(parse(Array(ipv4.prefix(20))) == .incomplete)
        for bad in [
            Self.v2(command: 0x11, family: 0x11, addresses: []), Self.v2(command: 0x22, family: 0x11, addresses: []),
            Self.v2(family: 0x11, addresses: [1, 2, 3]), Self.signature.dropLast() + [0x0B, 0x21, 0x11, 0, 0],
            Self.signature + [0x21, 0x11, 0xFF, 0xFF],
        ] {
            guard case .invalid = parse(Array(bad)) else {
                Issue.record("accepted \(bad)")
                continue
            }
        }
    }

    @Test("limits count IPv4 sources by address and IPv6 ones by /64; IPv4-mapped IPv6 is the IPv4 address; CIDR ranges match by prefix")
    func sourceAddresses() throws {
        #expect(IPAddress("203.0.113.7")?.limitKey == "203.0.113.7")
        #expect(IPAddress("::ffff:203.0.113.7")?.limitKey == "203.0.113.7")
        let a = try #require(IPAddress("2001:db8:1:2:aaaa::1"))
        let b = try #require(IPAddress("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        #expect(a.limitKey == "2001:db8:1:2::/64" && a.limitKey == b.limitKey)
        #expect(IPAddress("2001:db8:1:3::1")?.limitKey != a.limitKey)
        #expect(IPAddress("not an address") == nil)

        let ten = try #require(AddressRange("10.0.0.0/8"))
        #expect(ten.contains(try #require(IPAddress("10.200.3.4"))))
        #expect(!ten.contains(try #require(IPAddress("11.0.0.1"))))
        #expect(!ten.contains(a), "another family never matches")
        let odd = try #require(AddressRange("192.168.4.0/22"))
        let (inside, outside) = (try #require(IPAddress("192.168.7.255")), try #require(IPAddress("192.168.8.0")))
        #expect(odd.contains(inside) && !odd.contains(outside))
        let net = try #require(AddressRange("2001:db8::/32"))
        let elsewhere = try #require(IPAddress("2001:db9::1"))
        #expect(net.contains(a) && !net.contains(elsewhere))
        let loopback = try #require(IPAddress("127.0.0.1"))
        #expect(AddressRange("127.0.0.1")?.contains(loopback) == true)
        for bad in ["10.0.0.0/33", "2001:db8::/129", "10.0.0.0/x", "example.com", ""] { #expect(AddressRange(bad) == nil, "\(bad)") }
        #expect(odd.description == "192.168.4.0/22" && net.description == "2001:db8::/32")
    }
}
