import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A benchmark that could not run or whose run failed a check.
package struct BenchError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }

    /// Turns the errno of a failed connect into what to do about it.
    static func explaining(_ error: IOError, connectingTo endpoint: BenchEndpoint, from source: IPAddresses.Address?) -> BenchError {
        switch error.errnoCode {
        case EMFILE, ENFILE:
            var limit = rlimit()
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            return BenchError(
                "out of file descriptors connecting to \(endpoint): this process may hold at most \(limit.rlim_cur) open files "
                    + "(hard limit \(limit.rlim_max)); spread the connections over more generator processes (--processes)"
            )
        case EADDRNOTAVAIL, EADDRINUSE:
            return BenchError(
                "out of source ports connecting to \(endpoint)\(source.map { " from \($0.socketAddress.ipAddress ?? "?")" } ?? ""): "
                    + "spread the connections over more loopback source addresses (--sources)"
            )
        case ECONNREFUSED:
            return BenchError("\(endpoint) refused the connection: is the node running, and is its accept backlog full?")
        default:
            return BenchError("connecting to \(endpoint): \(error)")
        }
    }
}
