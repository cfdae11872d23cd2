import Synchronization

/// A Lua script sent by its SHA1 (EVALSHA) once Redis has told it, so the hot path does not
/// ship and hash the script's text with every call. Until then — and once after Redis
/// lost its script cache (a restart: NOSCRIPT) — a call is sent as EVAL, which caches it
/// again. A call refused NOSCRIPT is sent again as EVAL from its answer, so calls in flight
/// on one connection at that moment may run in another order than they were sent.
package final class RedisScript: Sendable {
    private let text: [UInt8]
    private struct State {
        var sha: [UInt8]?
        var loading = false
    }
    private let state = Mutex(State())

    package init(_ text: String) {
        self.text = Array(text.utf8)
    }

    /// Runs the script with `arguments` (the key count, keys, then arguments) on `connection`.
    package func run(_ arguments: [[UInt8]], on connection: RedisConnection, completion: @escaping RedisConnection.Completion) {
        run(arguments, send: { command, completion in connection.send(command, completion: completion) }, completion: completion)
    }

    /// Runs the script with `arguments` through `redis`, routed by its first key (in a
    /// cluster, each shard learns the script from the first EVAL that reaches it).
    package func run(_ arguments: [[UInt8]], on redis: RedisConnectionGroup, completion: @escaping RedisConnection.Completion) {
        let key = arguments.count > 1 ? arguments[1] : []
        run(arguments, send: { command, completion in redis.send(command, key: key, completion: completion) }, completion: completion)
    }

    /// The same, awaited, routed by `key` (default: the first key); an error reply throws
    /// `RedisError.server`.
    package func run(_ arguments: [[UInt8]], key: [UInt8]? = nil, on redis: RedisConnectionGroup) async throws -> RedisReply {
        let key = key ?? (arguments.count > 1 ? arguments[1] : [])
        let reply = try await withCheckedThrowingContinuation { continuation in
            run(arguments, send: { command, completion in redis.send(command, key: key, completion: completion) }) {
                continuation.resume(with: $0)
            }
        }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    private func run(
        _ arguments: [[UInt8]], send: @escaping @Sendable (RedisCommand, @escaping RedisConnection.Completion) -> Void,
        completion: @escaping RedisConnection.Completion
    ) {
        let (sha, load) = state.withLock { state -> ([UInt8]?, Bool) in
            let load = state.sha == nil && !state.loading
            if load { state.loading = true }
            return (state.sha, load)
        }
        guard let sha else {
            if load { learnSHA(send) }
            return send(RedisCommand([Self.eval, text] + arguments), completion)
        }
        send(RedisCommand([Self.evalsha, sha] + arguments)) { result in
            if case .success(.error(let message)) = result, message.hasPrefix("NOSCRIPT") {
                return send(RedisCommand([Self.eval, self.text] + arguments), completion)
            }
            completion(result)
        }
    }

    private func learnSHA(_ send: @Sendable (RedisCommand, @escaping RedisConnection.Completion) -> Void) {
        send(RedisCommand([Self.script, Self.load, text])) { result in
            self.state.withLock { state in
                state.loading = false
                if case .success(.string(let sha)) = result { state.sha = sha }
            }
        }
    }

    /// `arguments` as text (the key count, keys, then arguments).
    package func run(_ arguments: [String], key: String? = nil, on redis: RedisConnectionGroup) async throws -> RedisReply {
        try await run(arguments.map { Array($0.utf8) }, key: key.map { Array($0.utf8) }, on: redis)
    }

    private static let eval = Array("EVAL".utf8)
    private static let evalsha = Array("EVALSHA".utf8)
    private static let script = Array("SCRIPT".utf8)
    private static let load = Array("LOAD".utf8)
}
