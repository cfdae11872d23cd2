import HummingbirdWSClient
import Node
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Opens `connections` WebSockets to a node and holds them, reading the node's resident
/// memory from /proc before and after: the memory one idle connection costs.
public struct IdleBenchmark: Sendable {
    public var url: String
    public var secret: String
    public var connections: Int
    public var nodePID: Int32
    public var settle: Duration

    public init(url: String, secret: String, connections: Int, nodePID: Int32, settle: Duration = .seconds(2)) {
        self.url = url
        self.secret = secret
        self.connections = connections
        self.nodePID = nodePID
        self.settle = settle
    }

    public struct Result: Sendable, CustomStringConvertible {
        public let connections: Int
        public let rssBeforeKiB: Int
        public let rssAfterKiB: Int
        /// After every connection closed again and `settle` passed: what the node gave back.
        public let rssAfterCloseKiB: Int
        public let connectSeconds: Double
        public var kibPerConnection: Double { Double(rssAfterKiB - rssBeforeKiB) / Double(max(connections, 1)) }
        public var description: String {
            "\(connections) idle connections in \(String(format2: connectSeconds)) s; node RSS \(rssBeforeKiB) KiB → \(rssAfterKiB) KiB: "
                + "\(String(format2: kibPerConnection)) KiB per connection; \(rssAfterCloseKiB) KiB once they closed"
        }
    }

    public func run() async throws -> Result {
        try FileLimit.ensure(atLeast: connections + 64, for: "\(connections) client sockets")
        let rssBefore = try ProcessMemory.residentKiB(pid: nodePID)
        let authenticator = try await TokenAuthenticator(secret: secret)
        let tally = Tally()
        let start = ContinuousClock.now
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<connections {
                let token = try await authenticator.issue(user: "idle-\(n)", validFor: .seconds(3600))
                group.addTask {
                    do {
                        try await WebSocketClient.connect(
                            url: url, configuration: BenchClient.configuration(token: token, format: .json), logger: BenchClient.logger
                        ) { _, outbound, _ in
                            tally.opened.add(1, ordering: .relaxed)
                            await tally.waitForRelease()
                            try await outbound.close(.normalClosure, reason: nil)
                        }
                    } catch {
                        tally.failures.withLock { $0.append("\(error)") }
                    }
                }
                // Pace the handshakes so the node's accept backlog never overflows.
                if n % 200 == 199 { try await Task.sleep(for: .milliseconds(5)) }
            }
            while tally.opened.load(ordering: .relaxed) + tally.failures.withLock({ $0.count }) < connections {
                try await Task.sleep(for: .milliseconds(20))
            }
            let connectSeconds = (ContinuousClock.now - start).seconds
            try await Task.sleep(for: settle)
            let rssAfter = try ProcessMemory.residentKiB(pid: nodePID)
            let failed = tally.failures.withLock { $0 }
            tally.released.store(true, ordering: .releasing)
            try await group.waitForAll()
            try await Task.sleep(for: settle)
            let rssAfterClose = try ProcessMemory.residentKiB(pid: nodePID)
            guard failed.isEmpty else {
                throw BenchError("\(failed.count) of \(connections) connections failed; first: \(failed[0])")
            }
            return Result(
                connections: connections, rssBeforeKiB: rssBefore, rssAfterKiB: rssAfter, rssAfterCloseKiB: rssAfterClose,
                connectSeconds: connectSeconds
            )
        }
    }
}

/// What the idle connections report back, and the signal that lets them go.
private final class Tally: Sendable {
    let opened = Atomic<Int>(0)
    let failures = Mutex<[String]>([])
    let released = Atomic<Bool>(false)

    func waitForRelease() async {
        while !released.load(ordering: .acquiring) {
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
