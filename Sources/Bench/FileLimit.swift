#if canImport(Glibc)
import Glibc
#endif

/// The open-file limit: raised to the hard limit when needed, and a clear error when
/// even that is too low (here the hard limit cannot be raised without CAP_SYS_RESOURCE).
enum FileLimit {
    static func ensure(atLeast needed: Int, for purpose: String) throws {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if Int(limit.rlim_cur) >= needed { return }
        if Int(limit.rlim_max) >= needed {
            limit.rlim_cur = rlim_t(needed)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { return }
        }
        throw BenchError(
            "\(purpose) need \(needed) open files but this process may have at most \(limit.rlim_max) "
                + "(hard limit, raising it needs CAP_SYS_RESOURCE): use fewer connections per process "
                + "(`bench idle --processes N` spreads them over N generator processes)"
        )
    }
}
