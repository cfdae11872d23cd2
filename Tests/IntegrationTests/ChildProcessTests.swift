import Essentials
import Foundation
import Testing
import TestSupport

/// Children that must die with this process are all started from one thread; many tasks
/// starting them at once each get their own child, and each runs as asked.
@Suite("Child processes", .tags(.process))
struct ChildProcessTests {
    @Test("children that die with their parent start from many tasks at once, under their own pid, with their arguments")
    func manyAtOnce() async throws {
        let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
            for index in 0..<40 {
                group.addTask {
                    let child = ChildProcess()
                    child.diesWithParent = true
                    child.executableURL = URL(fileURLWithPath: "/bin/sh")
                    child.arguments = ["-c", "exit $1", "sh", "\(index % 7)"]
                    child.standardOutput = FileHandle.nullDevice
                    child.standardError = FileHandle.nullDevice
                    try child.run()
                    #expect(child.processIdentifier > 0)
                    #expect(await child.exit(within: .seconds(60)))
                    return child.terminationStatus * 100 + Int32(index)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let expected: [Int32] = (0..<40).map { index in Int32(index % 7) * 100 + Int32(index) }
        #expect(statuses.sorted() == expected.sorted())
    }

    @Test("FileHandle.nullDevice (no descriptor on Linux) gives the child /dev/null, not this process' own output")
    func nullDevice() async throws {
        let child = ChildProcess()
        // Says where its own stdout and stdin lead, on stderr (a shell's redirections would
        // move its own descriptors while it looks).
        child.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        child.arguments = ["-c", "import os, sys; sys.stderr.write(os.readlink('/proc/self/fd/1') + '\\n' + os.readlink('/proc/self/fd/0') + '\\n')"]
        child.standardInput = FileHandle.nullDevice
        child.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        child.standardError = errors
        try child.run()
        #expect(await child.exit(within: .seconds(30)))
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text == "/dev/null\n/dev/null\n", "\(text)")
    }

    @Test("a child that dies with its parent runs with the parent-death signal SIGKILL; one that need not, without")
    func parentDeathSignal() async throws {
        for dies in [true, false] {
            // `setpriv --dump` prints the process' own settings, this signal among them.
            let dump = ChildProcess()
            dump.diesWithParent = dies
            dump.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            dump.arguments = ["--dump"]
            let output = Pipe()
            dump.standardOutput = output
            dump.standardError = output
            try dump.run()
            #expect(await dump.exit(within: .seconds(30)))
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(text.contains("Parent death signal: KILL") == dies, "\(text)")
        }
    }

    @Test("a child's log file gets its output and errors, and this process keeps no descriptor of it")
    func logFileClosedHere() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("child-logs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let child = ChildProcess()
        child.logDirectory = directory
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "echo out; echo err >&2; sleep 30"]
        try child.run()
        defer { kill(child.processIdentifier, SIGKILL) }
        let log = try #require(try FileManager.default.contentsOfDirectory(atPath: directory.path).first)
        let path = directory.appendingPathComponent(log).path
        try await waitUntil(timeout: .seconds(30)) { (try? String(contentsOfFile: path, encoding: .utf8)) == "out\nerr\n" }
        // Every descriptor this process holds, by where it leads.
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
            .compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
        #expect(!open.contains(path), "\(open.filter { $0.hasPrefix("/") })")
    }
}
