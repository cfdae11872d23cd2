package import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn`: what `switchboard cluster` starts (Redis,
/// backends, nodes), the load generator's worker processes, and the servers and tools
/// tests start.
///
/// Not Foundation's `Process`: its `run()` on Linux (Swift 6.3) scans `/proc/self/fd` with a
/// 256-byte over-read of each directory entry, which crashes the parent now and then when
/// many sockets are open (swift-corelibs-foundation#5472) — and the load generator and the
/// test suite open thousands. The child gets the default signal dispositions and an empty
/// signal mask (so SIGTERM works on it whatever thread started it), and no descriptor but
/// 0–2. Starting one is implemented for Linux, where the servers run.
///
/// The properties mirror `Process`' so call sites read the same.
package final class ChildProcess: @unchecked Sendable {
    package enum TerminationReason: Sendable { case exit, uncaughtSignal }

    package var executableURL: URL?
    package var arguments: [String] = []
    /// Nil: this process' environment.
    package var environment: [String: String]?
    /// A `FileHandle` or a `Pipe` (its writing end); nil inherits this process' own.
    package var standardOutput: Any?
    package var standardError: Any?
    /// A `Pipe` (its reading end) or a `FileHandle`; nil inherits this process' own.
    package var standardInput: Any?
    /// Starts the child in a process group of its own (as Foundation's `Process` does), so
    /// that a terminal's Ctrl-C reaches only this process, which then stops its children in
    /// its own order; otherwise the child shares this process' group.
    package var ownProcessGroup = false
    /// Called once the child runs, with its name and pid; what it returns is called once
    /// the child has been reaped. The tests' watchdog registers children this way.
    package var watch: (@Sendable (_ name: String, _ pid: pid_t) -> (@Sendable () -> Void))?
    /// The child is killed (SIGKILL) when this process dies, however it dies — a test
    /// process that crashes must not leave servers behind holding ports, or its output
    /// pipe open so that whoever reads it waits for ever. Done by `setpriv` (util-linux),
    /// which sets the parent-death signal and then runs the program under the same pid;
    /// without `setpriv` the child is started as it is.
    package var diesWithParent = false
    /// Where an output left nil goes instead of this process' own: a file
    /// `<program>-<n>.log` in this directory (both outputs in one file).
    package var logDirectory: URL?

    private let lock = NSLock()
    private var pid: pid_t = 0
    private var status: Int32?

    package init() {}

    #if os(Linux)
    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module
    /// does not declare: the child closes every descriptor from 3 on.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }
    #endif

    package var processIdentifier: Int32 { lock.withLock { pid } }

    package func run() throws {
        #if os(Linux)
        guard let program = executableURL?.path else { throw ChildProcessError("no executable to start") }
        // A log file opened here is the child's alone: this process closes its copy once
        // the child has started (or failed to), keeping no descriptor per child.
        var ownLog: FileHandle?
        defer { try? ownLog?.close() }
        if let logDirectory, standardOutput == nil || standardError == nil {
            let log = try Self.logFile(in: logDirectory, for: executableURL?.lastPathComponent ?? "child")
            ownLog = log
            if standardOutput == nil { standardOutput = log }
            if standardError == nil { standardError = log }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var childEnds: [FileHandle] = []
        // `FileHandle.nullDevice` has no descriptor (-1 on Linux): the child gets /dev/null.
        // A failed action is an error, never a silent fall-back to this process' own
        // descriptor, which a child outliving this process would hold open.
        func redirect(_ handle: FileHandle, to target: Int32, writing: Bool) throws {
            let result = handle.fileDescriptor < 0
                ? posix_spawn_file_actions_addopen(&actions, target, "/dev/null", writing ? O_WRONLY : O_RDONLY, 0)
                : posix_spawn_file_actions_adddup2(&actions, handle.fileDescriptor, target)
            guard result == 0 else { throw ChildProcessError("cannot give \(program) descriptor \(target): \(String(cString: strerror(result)))") }
        }
        switch standardInput {
        case let handle as FileHandle:
            try redirect(handle, to: 0, writing: false)
        case let pipe as Pipe:
            try redirect(pipe.fileHandleForReading, to: 0, writing: false)
            childEnds.append(pipe.fileHandleForReading)
        default:
            break
        }
        for (target, output) in [(Int32(1), standardOutput), (Int32(2), standardError)] {
            switch output {
            case let handle as FileHandle:
                try redirect(handle, to: target, writing: true)
            case let pipe as Pipe:
                try redirect(pipe.fileHandleForWriting, to: target, writing: true)
                childEnds.append(pipe.fileHandleForWriting)
            default:
                break
            }
        }
        guard let closeFrom = Self.addCloseFrom else { throw ChildProcessError("starting a process needs glibc 2.34 or later (posix_spawn_file_actions_addclosefrom_np)") }
        _ = closeFrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        // The parent-death signal fires when the *thread* that started the child ends, so
        // such children are started from one thread that lives as long as this process.
        let setpriv = diesWithParent ? Self.setpriv : nil
        let path = setpriv ?? program
        let argv = ((setpriv.map { [$0, "--pdeathsig", "KILL", "--", program] } ?? [path]) + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environment = (self.environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { environment.forEach { free($0) } }
        var child: pid_t = 0
        let result = setpriv != nil
            ? SpawningThread.shared.perform { posix_spawn(&child, path, &actions, &attributes, argv, environment) }
            : posix_spawn(&child, path, &actions, &attributes, argv, environment)
        guard result == 0 else { throw ChildProcessError("cannot start \(path): \(String(cString: strerror(result)))") }
        lock.withLock { pid = child }
        let spawned = child
        Self.live.withLock { _ = $0.insert(spawned) }
        let release = watch?(executableURL?.lastPathComponent ?? path, spawned)
        // Reaped as soon as it exits, as Foundation's Process does (a zombie would still
        // look alive to whoever waits for the pid to go, e.g. `switchboard bench drain`).
        let reaper = Thread { [self] in
            var raw: Int32 = 0
            while waitpid(spawned, &raw, 0) == -1 && errno == EINTR {}
            lock.withLock { status = raw }
            Self.live.withLock { _ = $0.remove(spawned) }
            release?()
        }
        reaper.stackSize = 64 * 1024
        reaper.start()
        // The child has its own copies of its pipe ends; without ours, an output pipe's
        // reader sees the end once the child exits.
        for end in childEnds { try? end.close() }
        #else
        throw ChildProcessError("starting a child process is implemented for Linux only")
        #endif
    }

    package var isRunning: Bool {
        lock.withLock { pid > 0 && status == nil }
    }

    /// Blocks until the child has exited. Not on the cooperative pool (it has as many
    /// threads as cores): there, use `exit(within:)`.
    package func waitUntilExit() {
        while isRunning { usleep(5_000) }
    }

    /// Waits, without blocking a thread, until the child has exited; false if it is still
    /// running after `limit`. Waits even when the task is cancelled: a fixture's cleanup.
    @discardableResult
    package func exit(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while isRunning {
            guard ContinuousClock.now < deadline else { return false }
            // In a task of its own: a cancelled caller's sleep would return at once and spin.
            await Task { try? await Task.sleep(for: .milliseconds(5)) }.value
        }
        return true
    }

    /// SIGTERM, then SIGKILL when the child is still running after `grace`; returns once it
    /// has exited.
    package func stop(grace: Duration = .seconds(10)) async {
        terminate()
        if await exit(within: grace) { return }
        let pid = processIdentifier
        if pid > 0 && isRunning { kill(pid, SIGCONT); kill(pid, SIGKILL) }
        await exit(within: .seconds(30))
    }

    private static let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }
    private static let logCount = Mutex(0)

    /// A fresh log file for a child named `name`, open for appending.
    private static func logFile(in directory: URL, for name: String) throws -> FileHandle {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let count = logCount.withLock { $0 += 1; return $0 }
        let url = directory.appendingPathComponent("\(name)-\(getpid())-\(count).log")
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else { throw ChildProcessError("cannot create \(url.path)") }
        return try FileHandle(forWritingTo: url)
    }

    /// Children still running, by pid (`killAll`).
    private static let live = Mutex<Set<pid_t>>([])

    /// SIGKILL to every child still running.
    package static func killAll() {
        for pid in live.withLock({ $0 }) { kill(pid, SIGKILL) }
    }

    /// The exit code, or the signal that ended it.
    package var terminationStatus: Int32 {
        lock.withLock {
            guard let status else { return 0 }
            return status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
        }
    }

    package var terminationReason: TerminationReason {
        lock.withLock { (status ?? 0) & 0x7f == 0 ? .exit : .uncaughtSignal }
    }

    /// SIGTERM.
    package func terminate() {
        let pid = processIdentifier
        if pid > 0 && isRunning { kill(pid, SIGTERM) }
    }
}

/// Why a child process could not be started.
package struct ChildProcessError: Error, CustomStringConvertible {
    package let description: String

    package init(_ description: String) {
        self.description = description
    }
}
