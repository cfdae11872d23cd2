#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// A node process on this machine, found from the port it listens on (/proc/net/tcp →
/// socket inode → the process holding it), so every report can show each node's CPU and
/// memory without being told its PID.
package struct ListeningProcess: Sendable {
    package let port: Int
    package let pid: Int32

    package init(port: Int, pid: Int32) {
        self.port = port
        self.pid = pid
    }

    /// The process listening on `port` on this machine, or nil when none is visible.
    /// /proc/net/tcp is read in pages while other sockets come and go, which can skip an
    /// entry, so a miss is retried a few times.
    package static func listening(on port: Int) async -> ListeningProcess? {
        for attempt in 0..<5 {
            if let found = findListener(on: port) { return found }
            if attempt < 4 { try? await Task.sleep(for: .milliseconds(50)) }
        }
        return nil
    }

    private static func findListener(on port: Int) -> ListeningProcess? {
        var inodes: Set<String> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = ProcFile.read(table) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count > 9, fields[3] == "0A", let colon = fields[1].lastIndex(of: ":"),
                    Int(fields[1][fields[1].index(after: colon)...], radix: 16) == port
                else { continue }
                inodes.insert("socket:[\(fields[9])]")
            }
        }
        guard !inodes.isEmpty, let processes = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in processes {
            guard let pid = Int32(entry),
                let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/fd")
            else { continue }
            for fd in fds {
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\(fd)"), inodes.contains(target) {
                    return ListeningProcess(port: port, pid: pid)
                }
            }
        }
        return nil
    }

    /// CPU time (user + system) and resident memory right now.
    package func sample() -> Sample? {
        guard let stat = ProcFile.read("/proc/\(pid)/stat"),
            let close = stat.lastIndex(of: ")"), let rss = try? ProcessMemory.residentKiB(pid: pid)
        else { return nil }
        // Fields after the command name: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return Sample(
            cpuSeconds: (user + system) / ticks, residentKiB: rss, contextSwitches: contextSwitches(), at: MonotonicClock.nanoseconds()
        )
    }

    /// Voluntary and involuntary context switches of every live thread: the thread
    /// hand-offs a message or a call costs show up here.
    private func contextSwitches() -> Int {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return 0 }
        var total = 0
        for thread in threads {
            guard let status = ProcFile.read("/proc/\(pid)/task/\(thread)/status") else { continue }
            // "voluntary_ctxt_switches:\t12" and "nonvoluntary_ctxt_switches:\t3"
            for line in status.split(separator: "\n") where line.contains("ctxt_switches:") {
                total += line.split(whereSeparator: { $0 == "\t" || $0 == " " }).last.flatMap { Int($0) } ?? 0
            }
        }
        return total
    }

    package struct Sample: Sendable {
        let cpuSeconds: Double
        let residentKiB: Int
        let contextSwitches: Int
        let at: Int64
    }

    /// What the process used between two samples.
    package struct Usage: Sendable, Codable, CustomStringConvertible {
        package let port: Int
        package let pid: Int32
        /// Cores busy on average (1.0 = one core all the time).
        package let cpuCores: Double
        /// CPU time used over the run (user + system).
        package let cpuSeconds: Double
        package let residentKiB: Int
        /// Context switches of all its threads over the run.
        package let contextSwitches: Int

        package var description: String {
            "server :\(port) (pid \(pid)) \(String(format2: cpuCores)) cores, RSS \(residentKiB / 1024) MiB"
        }

        /// CPU microseconds and context switches per `operations` (calls, messages).
        package func cost(per operations: Int) -> String {
            guard operations > 0 else { return "" }
            let micros = cpuSeconds / Double(operations) * 1e6
            let switches = Double(contextSwitches) / Double(operations)
            return "server :\(port) \(String(format2: micros)) µs CPU, \(String(format2: switches)) context switches"
        }
    }

    func usage(from start: Sample, to end: Sample) -> Usage {
        let seconds = Double(end.at - start.at) / 1e9
        let used = end.cpuSeconds - start.cpuSeconds
        return Usage(
            port: port, pid: pid, cpuCores: seconds > 0 ? used / seconds : 0, cpuSeconds: used, residentKiB: end.residentKiB,
            contextSwitches: end.contextSwitches - start.contextSwitches
        )
    }
}
