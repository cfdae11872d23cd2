import Essentials

/// The open-file limit a generator process needs, or a clear error when even the hard
/// limit is too low (raising it needs CAP_SYS_RESOURCE).
enum FileLimit {
    /// Raises the limit to `preferred` where the hard limit allows (headroom, e.g. for
    /// reconnections that overlap the sockets they replace), and fails only below `needed`.
    static func ensure(atLeast needed: Int, preferring preferred: Int? = nil, for purpose: String) throws {
        guard OpenFileLimit.raise(to: max(needed, preferred ?? needed)) < needed else { return }
        throw BenchError(
            "\(purpose) need \(needed) open files but this process may have at most \(OpenFileLimit.hard) "
                + "(hard limit, raising it needs CAP_SYS_RESOURCE): use fewer connections per process "
                + "(`bench idle --processes N` spreads them over N generator processes)"
        )
    }
}
