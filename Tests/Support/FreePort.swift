import Foundation

/// A loopback port nobody listens on right now, below the ephemeral range (32768–60999)
/// so that the client sockets of tests running alongside cannot take it before it is
/// bound. With `span`, ports `port ... port + span` are all free.
package func freePort(span: Int = 0) throws -> Int {
    for _ in 0..<200 {
        let base = Int.random(in: 20_000..<(32_000 - span))
        if (base...(base + span)).allSatisfy(isBindable) { return base }
    }
    throw TestFailure("no free port below the ephemeral range")
}

private func isBindable(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}
