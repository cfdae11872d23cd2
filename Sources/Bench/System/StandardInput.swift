import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Waits for this process's stdin to close: a worker's signal to stop. The blocking read
/// runs on a thread of its own, never on the cooperative pool.
enum StandardInput {
    /// This process's stdin line by line, until it closes; read on a thread of its own.
    static func lines() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let thread = Thread {
            var line: [UInt8] = []
            var byte: UInt8 = 0
            while read(0, &byte, 1) > 0 {
                if byte == UInt8(ascii: "\n") {
                    continuation.yield(String(decoding: line, as: UTF8.self))
                    line.removeAll(keepingCapacity: true)
                } else {
                    line.append(byte)
                }
            }
            if !line.isEmpty { continuation.yield(String(decoding: line, as: UTF8.self)) }
            continuation.finish()
        }
        thread.start()
        return stream
    }

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
