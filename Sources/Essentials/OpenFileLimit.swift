#if canImport(Glibc)
import Glibc
#endif

/// This process's open-file limit. Each socket is a file, so the limit caps the
/// connections a node holds and a load generator opens; the soft limit can be raised to
/// the hard one, and the hard one only with CAP_SYS_RESOURCE.
package enum OpenFileLimit {
    /// Files a node keeps for everything but clients: listeners, Redis, backends, gRPC, logs.
    package static let reserved = 256

    /// Raises the soft limit to the hard limit; returns the limit now in force.
    @discardableResult
    package static func raiseToHard() -> Int {
        raise(to: nil)
    }

    /// Raises the soft limit to `needed` (nil: as far as the hard limit allows) if it is
    /// lower; returns the limit now in force, which may still be lower than `needed`.
    @discardableResult
    package static func raise(to needed: Int?) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let wanted = needed.map { min(rlim_t($0), limit.rlim_max) } ?? limit.rlim_max
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = wanted
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return Int(clamping: raised.rlim_cur) }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// The hard limit: as far as `raise` can go.
    package static var hard: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(clamping: limit.rlim_max)
    }
}
