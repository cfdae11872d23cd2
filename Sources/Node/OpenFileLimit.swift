#if canImport(Glibc)
import Glibc
#endif

/// This process's open-file limit. Each client socket is a file, so the limit caps the
/// connections a node can hold; the node raises its soft limit to the hard one at start
/// (the hard limit needs CAP_SYS_RESOURCE to raise) and derives its connection cap from it.
public enum OpenFileLimit {
    /// Files kept for everything but clients: listeners, Redis, backends, gRPC, logs.
    public static let reserved = 256

    /// Raises the soft limit to the hard limit; returns the limit now in force.
    @discardableResult
    public static func raiseToHard() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return Int(clamping: raised.rlim_cur) }
        }
        return Int(clamping: limit.rlim_cur)
    }
}
