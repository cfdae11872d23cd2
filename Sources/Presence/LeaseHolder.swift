#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a node writes into its lease: enough to name the process to another that finds the
/// id taken — where it listens, its pid, and a random part (every container's first
/// process is pid 1), so that two processes never write the same value.
package enum LeaseHolder {
    package static func text(address: String) -> String {
        "\(address), pid \(getpid()), instance \(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
    }
}
