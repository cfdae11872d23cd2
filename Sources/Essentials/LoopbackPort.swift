#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Ports on 127.0.0.1: whether one is free now, and a free one to use — for the local
/// clusters `switchboard cluster` and the tests start.
package enum LoopbackPort {
    /// Whether a TCP socket can bind `port` on 127.0.0.1 right now.
    package static func isFree(_ port: Int) -> Bool {
        guard (1...65535).contains(port) else { return false }
        #if canImport(Glibc) || canImport(Musl)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port in `range` with the `span` ports above it free too, tried at random; nil
    /// when 200 tries found none. Below the ephemeral range (32768–60999) by default, so
    /// that client sockets opened meanwhile cannot take it before it is bound.
    /// `avoiding`: ports the caller is about to bind itself (free now, taken soon).
    package static func free(in range: Range<Int> = 20_000..<32_000, span: Int = 0, avoiding: Set<Int> = []) -> Int? {
        guard range.count > span else { return nil }
        for _ in 0..<200 {
            let base = Int.random(in: range.lowerBound..<(range.upperBound - span))
            if (base...(base + span)).allSatisfy({ !avoiding.contains($0) && isFree($0) }) { return base }
        }
        return nil
    }
}
