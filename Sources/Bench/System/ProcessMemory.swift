#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Resident memory of a process, from /proc.
enum ProcessMemory {
    static func residentKiB(pid: Int32) throws -> Int {
        let path = "/proc/\(pid)/status"
        guard let text = ProcFile.read(path) else {
            throw BenchError("cannot read \(path): is process \(pid) running on this machine?")
        }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            if let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) { return kib }
        }
        throw BenchError("no VmRSS in \(path)")
    }
}
