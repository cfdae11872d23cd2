import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Loopback source addresses (127.0.0.1, 127.0.0.2, …) handed out round-robin: each one
/// brings its own ephemeral port range, so one machine can open more connections to a
/// node than a single address allows.
package struct IPAddresses: Sendable {
    package struct Address: Sendable {
        let socketAddress: SocketAddress
        /// IP_BIND_ADDRESS_NO_PORT (Linux): bind the address now, pick the port at connect.
        var bindAddressNoPort: Int32 { 24 }
    }

    private let addresses: [Address]
    package var count: Int { addresses.count }

    /// `count` addresses starting at 127.0.0.1; 0 means "let the kernel choose" (no bind).
    package init(count: Int) throws {
        guard (0...250).contains(count) else { throw BenchError("--sources must be between 0 and 250") }
        addresses = try (0..<count).map { Address(socketAddress: try SocketAddress(ipAddress: "127.0.0.\($0 + 1)", port: 0)) }
    }

    package func address(for connection: Int) -> Address? {
        addresses.isEmpty ? nil : addresses[connection % addresses.count]
    }
}
