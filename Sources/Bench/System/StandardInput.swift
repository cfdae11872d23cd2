import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Waits for this process's stdin to close: a worker's signal to stop. The blocking read
/// runs on a thread of its own, never on the cooperative pool.
enum StandardInput {
    static func waitForEnd() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                var byte: UInt8 = 0
                while read(0, &byte, 1) > 0 {}
                continuation.resume()
            }
            thread.start()
        }
    }
}
