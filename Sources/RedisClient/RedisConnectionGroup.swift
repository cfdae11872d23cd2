package import Logging
package import NIOCore
import NIOPosix
import Synchronization

/// One command connection per event loop, so a command issued on a loop — a client's
/// send, on its connection's loop — is written from that loop without a thread hop.
/// Work that is not on a loop (presence changes, the lease) uses the first loop's.
///
/// Against a Redis Cluster (`endpoint.isCluster`) there is one such connection per loop
/// and primary (`RedisCluster`), and each command goes to the shard serving its key.
package final class RedisConnectionGroup: Sendable {
    package let endpoint: RedisEndpoint
    private let connections: [RedisConnection]
    /// Set against a Redis Cluster; `connections` is empty then.
    package let cluster: RedisCluster?
    /// The loop subscribers and the lease's work run on.
    package let firstLoop: any EventLoop

    package init(endpoint: RedisEndpoint, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.endpoint = endpoint
        let loops = Array(group.makeIterator())
        firstLoop = loops[0]
        if endpoint.isCluster {
            cluster = RedisCluster(endpoint: endpoint, loops: loops, logger: logger)
            connections = []
        } else {
            cluster = nil
            connections = loops.map { RedisConnection(endpoint: endpoint, eventLoop: $0, logger: logger) }
        }
    }

    package var isCluster: Bool { cluster != nil }

    /// Able to send: connected (a single Redis), or the cluster's topology known.
    package var isConnected: Bool { cluster?.isConnected ?? connections[0].isConnected }

    /// Changes when Redis may have lost what this node wrote: a new connection (Redis
    /// restarted or came back) or, in a cluster, a new topology (a failover).
    package var generation: UInt64 { cluster?.generation ?? connections[0].generation }

    /// Sends `command`, about `key`, from the caller's loop's connection (the first
    /// loop's off the loops); in a cluster, to the shard serving the key's slot.
    /// `completion` runs on a loop.
    package func send(_ command: RedisCommand, key: [UInt8], completion: @escaping RedisConnection.Completion) {
        if let cluster {
            cluster.send(command, slot: RedisHashSlot.of(key), completion: completion)
        } else {
            current.send(command, completion: completion)
        }
    }

    /// Sends one command about `key` (binary-safe arguments); an error reply throws `RedisError.server`.
    package func send(key: [UInt8], _ arguments: [[UInt8]]) async throws -> RedisReply {
        let reply = try await withCheckedThrowingContinuation { continuation in
            send(RedisCommand(arguments), key: key) { continuation.resume(with: $0) }
        }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    package func send(key: String, _ arguments: [String]) async throws -> RedisReply {
        try await send(key: Array(key.utf8), arguments.map { Array($0.utf8) })
    }

    /// Sends every command at once — each about its key, so on a cluster each shard's go
    /// out pipelined on its connection — and waits for all replies, in `commands`' order.
    /// The first error reply (or failure) throws once all have answered.
    package func sendAll(_ commands: [(key: [UInt8], arguments: [[UInt8]])]) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        struct Replies {
            var values: [RedisReply]
            var failure: (any Error)?
            var remaining: Int
        }
        final class Collector: Sendable {
            let replies: Mutex<Replies>
            init(count: Int) { replies = Mutex(Replies(values: Array(repeating: .null, count: count), remaining: count)) }
        }
        let collector = Collector(count: commands.count)
        return try await withCheckedThrowingContinuation { continuation in
            for (index, command) in commands.enumerated() {
                send(RedisCommand(command.arguments), key: command.key) { result in
                    let finished = collector.replies.withLock { replies -> Result<[RedisReply], any Error>? in
                        switch result {
                        case .success(.error(let message)): replies.failure = replies.failure ?? RedisError.server(message)
                        case .success(let reply): replies.values[index] = reply
                        case .failure(let error): replies.failure = replies.failure ?? error
                        }
                        replies.remaining -= 1
                        guard replies.remaining == 0 else { return nil }
                        return replies.failure.map { .failure($0) } ?? .success(replies.values)
                    }
                    if let finished { continuation.resume(with: finished) }
                }
            }
        }
    }

    /// A single Redis' connection owned by `loop`, else the first loop's.
    private func connection(on loop: any EventLoop) -> RedisConnection {
        connections.first { $0.eventLoop === loop } ?? connections[0]
    }

    /// A single Redis' connection of the loop the caller runs on, else the first loop's.
    private var current: RedisConnection {
        MultiThreadedEventLoopGroup.currentEventLoop.map { connection(on: $0) } ?? connections[0]
    }

    package func close() {
        connections.forEach { $0.close() }
        cluster?.close()
    }
}
