import Auth
import Synchronization

/// The generator's WebSocket clients: user `<prefix><i>` on node `i % endpoints.count`,
/// connected a bounded number at a time (so the nodes' accept backlogs never overflow),
/// each from the next loopback source address.
final class ClientFleet: Sendable {
    let sockets: [BenchSocket]
    let endpoints: [BenchEndpoint]
    let userPrefix: String
    /// Seconds the whole fleet took to connect, welcomes included.
    let connectSeconds: Double

    private init(sockets: [BenchSocket], endpoints: [BenchEndpoint], userPrefix: String, connectSeconds: Double) {
        self.sockets = sockets
        self.endpoints = endpoints
        self.userPrefix = userPrefix
        self.connectSeconds = connectSeconds
    }

    var count: Int { sockets.count }
    func node(of client: Int) -> Int { client % endpoints.count }
    func user(_ client: Int) -> String { "\(userPrefix)\(client)" }

    /// Connects `count` clients, numbered from `first`; `onEvent` gets each client's
    /// frames with its number. Fails with the first connect error, closing the rest.
    static func connect(
        count: Int,
        first: Int = 0,
        endpoints: [BenchEndpoint],
        secret: String,
        userPrefix: String,
        format: BenchFormat,
        sources: IPAddresses,
        concurrency: Int = 64,
        onEvent: @escaping @Sendable (Int, BenchSocket.Event) -> Void
    ) async throws -> ClientFleet {
        guard !endpoints.isEmpty else { throw BenchError("no node URLs") }
        try FileLimit.ensure(atLeast: count + 256, for: "\(count) client sockets")
        let authenticator = try await TokenAuthenticator(secret: secret)
        let start = MonotonicClock.nanoseconds()
        let connected = ConnectedSockets(count: count)
        let line = ProgressLine(enabled: true) { "connected \(connected.count) of \(count) clients" }
        defer { line.finish() }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for offset in 0..<count {
                    // The first connect completes alone (see BenchSocket.connect).
                    if offset >= concurrency || offset == 1 { try await group.next() }
                    let client = first + offset
                    let token = try await authenticator.issue(user: "\(userPrefix)\(client)", validFor: .seconds(6 * 3600))
                    group.addTask {
                        let socket = try await BenchSocket.connect(
                            to: endpoints[client % endpoints.count], token: token, format: format, source: sources.address(for: client)
                        ) { event in onEvent(client, event) }
                        connected.sockets.withLock { $0[offset] = socket }
                        connected.opened.add(1, ordering: .relaxed)
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            let opened = connected.sockets.withLock { $0.compactMap { $0 } }
            await withTaskGroup(of: Void.self) { group in
                for socket in opened { group.addTask { await socket.close() } }
            }
            throw BenchError("\(opened.count) of \(count) clients connected, then: \(error)")
        }
        return ClientFleet(
            sockets: connected.sockets.withLock { $0.map { $0! } }, endpoints: endpoints, userPrefix: userPrefix,
            connectSeconds: Double(MonotonicClock.nanoseconds() - start) / 1e9
        )
    }

    func closeAll() async {
        await withTaskGroup(of: Void.self) { group in
            for (index, socket) in sockets.enumerated() {
                if index >= 256 { await group.next() }
                group.addTask { await socket.close() }
            }
        }
    }
}

/// The sockets connected so far, filled in by concurrent connects.
private final class ConnectedSockets: Sendable {
    let sockets: Mutex<[BenchSocket?]>
    let opened = Atomic<Int>(0)
    var count: Int { opened.load(ordering: .relaxed) }
    init(count: Int) { sockets = Mutex(Array(repeating: nil, count: count)) }
}
