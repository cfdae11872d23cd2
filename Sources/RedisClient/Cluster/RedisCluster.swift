import Essentials
package import Logging
package import NIOCore
import NIOPosix
import Synchronization

/// The command side of a Redis Cluster: which primary serves each slot
/// (`RedisClusterTopology`, from `CLUSTER SLOTS`), and one pipelined `RedisConnection` per
/// primary and event loop, so that a command issued on a loop is written from that loop.
/// A command goes to the primary of its key's slot; `MOVED` sends it where the slot lives
/// now and learns the topology again, `ASK` sends that one command to the importing node
/// after `ASKING`. The topology is asked for every second, and at once after a redirect
/// or a lost connection (a failover: the promoted replica takes over its slots), from
/// the nodes last known and then the seeds.
package final class RedisCluster: Sendable {
    package let endpoint: RedisEndpoint
    private let seeds: [HostAndPort]
    private let loops: [any EventLoop]
    private let logger: Logger
    private let state = Mutex(State())
    /// Redirects one command follows before its caller gets the last one as an error.
    private static let maxRedirects = 5
    private static let refreshInterval = TimeAmount.seconds(1)
    private static let minimumRefreshGap = TimeAmount.milliseconds(100)

    /// The installed topology and its connections, read by every command.
    private final class InstalledTopology: Sendable {
        let topology: RedisClusterTopology
        /// Shard index → one connection per loop.
        let connections: [[RedisConnection]]

        init(topology: RedisClusterTopology, connections: [[RedisConnection]]) {
            self.topology = topology
            self.connections = connections
        }
    }

    private struct State {
        var routing: InstalledTopology?
        /// Every command connection by address, one per loop: the primaries', and a
        /// redirect's target until the next topology.
        var connections: [HostAndPort: [RedisConnection]] = [:]
        /// Where topology is asked, on the first loop.
        var discovery: [HostAndPort: RedisConnection] = [:]
        /// Set while a refresh runs: who waits for it.
        var refreshWaiters: [EventLoopPromise<Void>]?
        var lastRefresh = NIODeadline.uptimeNanoseconds(0)
        var lastRefreshFailed = false
        var version: UInt64 = 0
        var listeners: [@Sendable (RedisClusterTopology) -> Void] = []
        var timer: RepeatedTask?
        var closed = false
        /// Commands that failed (no reply: the connection broke or could not be made) per
        /// primary since the topology last changed: what a failover cost, reported then.
        var failures: [HostAndPort: Int] = [:]
    }

    package init(endpoint: RedisEndpoint, loops: [any EventLoop], logger: Logger) {
        precondition(endpoint.isCluster && !loops.isEmpty)
        self.endpoint = endpoint
        seeds = endpoint.clusterSeeds ?? []
        self.loops = loops
        self.logger = logger
        let timer = loops[0].scheduleRepeatedTask(initialDelay: Self.refreshInterval, delay: Self.refreshInterval) { _ in
            _ = self.refresh()
        }
        state.withLock { $0.timer = timer }
        _ = refresh()
    }

    /// The topology in use, if one has been learned.
    package var topology: RedisClusterTopology? { state.withLock { $0.routing?.topology } }

    /// A topology is known and the last time it was asked for, some node answered.
    package var isConnected: Bool { state.withLock { $0.routing != nil && !$0.lastRefreshFailed } }

    /// Changes whenever the topology changed or a connection to a primary reconnected:
    /// Redis may have lost what this node wrote there. (A connection's first connect does
    /// not count: the first topology already did.)
    package var generation: UInt64 {
        state.withLock { state in
            let reconnects = state.routing?.connections.joined().map { max($0.generation, 1) - 1 }.reduce(0, &+) ?? 0
            return state.version &* 1_000_003 &+ reconnects
        }
    }

    /// `listener` hears every new topology, on the first loop (and the current one now, if any).
    package func onTopology(_ listener: @escaping @Sendable (RedisClusterTopology) -> Void) {
        let current = state.withLock { state in
            state.listeners.append(listener)
            return state.routing?.topology
        }
        if let current { loops[0].execute { listener(current) } }
    }

    /// Sends `command` to the primary serving `slot`, from the caller's loop's connection;
    /// `completion` runs on that loop. Before the first topology is known it waits for it.
    package func send(_ command: RedisCommand, slot: Int, completion: @escaping RedisConnection.Completion) {
        let loop = loopIndex()
        guard let routing = state.withLock({ $0.routing }) else {
            refresh().hop(to: loops[loop]).whenComplete { result in
                switch result {
                case .success: self.send(command, slot: slot, completion: completion)
                case .failure(let error): completion(.failure(error as? RedisError ?? .unavailable("\(error)")))
                }
            }
            return
        }
        guard let shard = routing.topology.shardIndex(ofSlot: slot) else {
            refreshSoon()
            return completion(.failure(.unavailable("no Redis Cluster node serves slot \(slot)")))
        }
        send(command, on: routing.connections[shard][loop], loop: loop, redirects: 0, completion: completion)
    }

    private func send(_ command: RedisCommand, on connection: RedisConnection, loop: Int, redirects: Int, completion: @escaping RedisConnection.Completion) {
        connection.send(command) { result in
            switch result {
            case .success(.error(let message)):
                if redirects < Self.maxRedirects, let redirect = RedisRedirect(message) {
                    let target = self.connection(to: redirect.address, loop: loop)
                    switch redirect.kind {
                    case .moved: self.refreshSoon()
                    case .ask: target.send(RedisCommand(["ASKING"])) { _ in }
                    }
                    return self.send(command, on: target, loop: loop, redirects: redirects + 1, completion: completion)
                }
                if message.hasPrefix("CLUSTERDOWN") || message.hasPrefix("READONLY") { self.refreshSoon() }
                completion(result)
            case .failure:
                let address = HostAndPort(host: connection.endpoint.host, port: connection.endpoint.port)
                self.state.withLock { $0.failures[address, default: 0] += 1 }
                self.refreshSoon()
                completion(result)
            case .success:
                completion(result)
            }
        }
    }

    private func loopIndex() -> Int {
        guard let current = MultiThreadedEventLoopGroup.currentEventLoop else { return 0 }
        return loops.firstIndex { $0 === current } ?? 0
    }

    private func connection(to address: HostAndPort, loop: Int) -> RedisConnection {
        state.withLock { state in
            if let existing = state.connections[address] { return existing[loop] }
            let made = makeConnections(to: address)
            state.connections[address] = made
            return made[loop]
        }
    }

    private func makeConnections(to address: HostAndPort) -> [RedisConnection] {
        loops.map { RedisConnection(endpoint: endpoint.at(address), eventLoop: $0, logger: logger) }
    }

    /// Asks for the topology unless that was done within the last 100 ms.
    package func refreshSoon() {
        let due = state.withLock { state in
            state.refreshWaiters == nil && loops[0].now - state.lastRefresh >= Self.minimumRefreshGap
        }
        if due { _ = refresh() }
    }

    /// Asks the known nodes, then the seeds, in turn for `CLUSTER SLOTS`, and installs the
    /// first answer that serves every slot. Refreshes asked for meanwhile share this one.
    @discardableResult
    package func refresh() -> EventLoopFuture<Void> {
        let loop = loops[0]
        let promise = loop.makePromise(of: Void.self)
        let (start, candidates) = state.withLock { state -> (Bool, [HostAndPort]) in
            if state.closed {
                promise.fail(RedisError.closed)
                return (false, [])
            }
            if state.refreshWaiters != nil {
                state.refreshWaiters?.append(promise)
                return (false, [])
            }
            state.refreshWaiters = [promise]
            var candidates: [HostAndPort] = []
            for address in (state.routing?.topology.nodes ?? []) + seeds where !candidates.contains(address) {
                candidates.append(address)
            }
            return (true, candidates)
        }
        if start { loop.execute { self.ask(candidates, from: 0, problems: []) } }
        return promise.futureResult
    }

    private func ask(_ candidates: [HostAndPort], from index: Int, problems: [String]) {
        guard index < candidates.count else {
            return finishRefresh(.failure(RedisError.unavailable("no Redis Cluster node answered CLUSTER SLOTS (\(problems.joined(separator: "; ")))")))
        }
        let address = candidates[index]
        let connection = state.withLock { state -> RedisConnection? in
            guard !state.closed else { return nil }
            if let existing = state.discovery[address] { return existing }
            let made = RedisConnection(endpoint: endpoint.at(address), eventLoop: loops[0], logger: logger)
            state.discovery[address] = made
            return made
        }
        guard let connection else { return finishRefresh(.failure(RedisError.closed)) }
        connection.send(RedisCommand(["CLUSTER", "SLOTS"])) { result in
            let name = "\(address.host):\(address.port)"
            switch result {
            case .success(let reply):
                if let topology = RedisClusterTopology(clusterSlots: reply, asked: address), topology.coversEverySlot {
                    self.install(topology)
                    return self.finishRefresh(.success(()))
                }
                self.ask(candidates, from: index + 1, problems: problems + ["\(name) answered \(reply.string.map { "'\($0)'" } ?? "slots that do not cover every slot")"])
            case .failure(let error):
                self.ask(candidates, from: index + 1, problems: problems + ["\(name): \(error)"])
            }
        }
    }

    private func finishRefresh(_ result: Result<Void, any Error>) {
        let (waiters, failedFirst) = state.withLock { state in
            let waiters = state.refreshWaiters ?? []
            state.refreshWaiters = nil
            state.lastRefresh = loops[0].now
            let failedFirst = result.isFailure && !state.lastRefreshFailed
            state.lastRefreshFailed = result.isFailure
            return (waiters, failedFirst)
        }
        if failedFirst, case .failure(let error) = result { logger.warning("redis cluster topology unknown", metadata: ["error": "\(error)"]) }
        waiters.forEach { $0.completeWith(result) }
    }

    private func install(_ topology: RedisClusterTopology) {
        let (changed, listeners, retired, replaced) = state.withLock {
            state -> (Bool, [@Sendable (RedisClusterTopology) -> Void], [RedisConnection], [(RedisClusterTopology.Shard, Int)]) in
            guard state.routing?.topology != topology, !state.closed else { return (false, [], [], []) }
            let replaced = (state.routing?.topology.shards ?? []).filter { old in !topology.shards.contains { $0.primary == old.primary } }
                .map { ($0, state.failures[$0.primary] ?? 0) }
            state.failures = [:]
            var connections: [HostAndPort: [RedisConnection]] = [:]
            let routed = topology.shards.map { shard in
                let existing = connections[shard.primary] ?? state.connections[shard.primary] ?? makeConnections(to: shard.primary)
                connections[shard.primary] = existing
                return existing
            }
            let retired = state.connections.filter { connections[$0.key] == nil }.values.flatMap { $0 }
            state.connections = connections
            let known = Set(topology.nodes + seeds)
            let gone = state.discovery.filter { !known.contains($0.key) }
            gone.keys.forEach { state.discovery[$0] = nil }
            state.routing = InstalledTopology(topology: topology, connections: routed)
            state.version += 1
            return (true, state.listeners, retired + gone.values, replaced)
        }
        guard changed else { return }
        retired.forEach { $0.close() }
        for (old, failed) in replaced {
            let successor = old.ranges.first.flatMap { topology.shardIndex(ofSlot: $0.lowerBound) }.map { topology.shards[$0].primary }
            logger.warning("redis cluster primary replaced (failover): commands to it failed meanwhile and relay through its shard was interrupted", metadata: [
                "old": "\(old.primary.host):\(old.primary.port)",
                "new": "\(successor.map { "\($0.host):\($0.port)" } ?? "none")",
                "failed-commands": "\(failed)",
            ])
        }
        logger.info("redis cluster topology", metadata: [
            "shards": "\(topology.shards.map { "\($0.primary.host):\($0.primary.port) (\($0.ranges.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")))" })",
        ])
        listeners.forEach { $0(topology) }
    }

    package func close() {
        let connections = state.withLock { state in
            state.closed = true
            state.timer?.cancel()
            state.routing = nil
            let all = state.connections.values.flatMap { $0 } + state.discovery.values
            state.connections = [:]
            state.discovery = [:]
            return all
        }
        connections.forEach { $0.close() }
    }
}

extension Result {
    fileprivate var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
