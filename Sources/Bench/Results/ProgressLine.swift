#if canImport(Glibc)
import Glibc
#endif

/// A live progress line on stderr while a run goes on; stdout stays clean for the results.
final class ProgressLine: Sendable {
    private let task: Task<Void, Never>

    /// `status` is asked once a second for what to show.
    init(enabled: Bool, status: @escaping @Sendable () -> String) {
        let start = MonotonicClock.nanoseconds()
        task = Task {
            guard enabled else { return }
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { break }
                let elapsed = Double(MonotonicClock.nanoseconds() - start) / 1e9
                let text = "[\(String(format2: elapsed)) s] \(status())"
                // A terminal gets one line rewritten in place; a log file a line per second.
                ProgressLine.write(isatty(2) != 0 ? "\r\u{1B}[2K" + text : text + "\n")
            }
        }
    }

    func finish() {
        task.cancel()
        if isatty(2) != 0 { ProgressLine.write("\r\u{1B}[2K") }
    }

    private static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
