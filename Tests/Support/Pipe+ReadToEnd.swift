package import Foundation

extension Pipe {
    /// Reads to the end on a thread of its own: a blocking read must not hold a thread of
    /// the cooperative pool, where the nodes under test run.
    package func readToEnd() async -> Data {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.fileHandleForReading.readDataToEndOfFile()) }.start()
        }
    }
}
