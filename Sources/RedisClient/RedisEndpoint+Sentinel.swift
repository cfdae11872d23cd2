import Essentials
import NIOCore
import NIOPosix
import NIOSSL

extension RedisEndpoint {
    /// Where a new connection goes: the endpoint's address, or, behind sentinels, the
    /// primary the first sentinel that knows the master names (each asked in turn, on a
    /// short-lived connection of its own: over TLS with `rediss://`, signed in with the
    /// sentinels' credentials when they have some), within the endpoint's connect and
    /// command timeouts.
    func primaryAddress(on eventLoop: any EventLoop, tls: NIOSSLContext? = nil) -> EventLoopFuture<HostAndPort> {
        guard let sentinels else {
            return eventLoop.makeSucceededFuture(HostAndPort(host: host, port: port))
        }
        return ask(sentinels, from: 0, on: eventLoop, tls: tls, problems: [])
    }

    private func ask(
        _ sentinels: RedisSentinels, from index: Int, on eventLoop: any EventLoop, tls: NIOSSLContext?, problems: [String]
    ) -> EventLoopFuture<HostAndPort> {
        guard index < sentinels.addresses.count else {
            return eventLoop.makeFailedFuture(RedisError.unavailable(
                "no sentinel named the primary of '\(sentinels.masterName)' (\(problems.joined(separator: "; ")))"
            ))
        }
        let sentinel = sentinels.addresses[index]
        let promise = eventLoop.makePromise(of: RedisReply.self)
        ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try self.tlsHandler(tls, host: sentinel.host)) }
                    try channel.pipeline.syncOperations.addHandler(RESPHandler(commandTimeout: TimeAmount(commandTimeout)))
                }
            }
            .connect(host: sentinel.host, port: sentinel.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    // Replies come back in order on the channel's loop: a refused sign-in is
                    // noted, and the question's reply reports it.
                    let refusal = NIOLoopBoundBox<String?>(nil, eventLoop: channel.eventLoop)
                    for command in sentinels.handshake {
                        channel.write(RESPHandler.Request(command: RedisCommand(command)) { reply in
                            if case .success(.error(let message)) = reply { refusal.value = message }
                        }, promise: nil)
                    }
                    let command = RedisCommand(["SENTINEL", "GET-MASTER-ADDR-BY-NAME", sentinels.masterName])
                    channel.writeAndFlush(RESPHandler.Request(command: command) { reply in
                        channel.close(promise: nil)
                        if let message = refusal.value {
                            promise.fail(RedisError.server("the sentinel refused its credentials: \(message)"))
                        } else {
                            promise.completeWith(reply.mapError { $0 })
                        }
                    }, promise: nil)
                case .failure(let error):
                    promise.fail(error)
                }
            }
        let name = "\(sentinel.host):\(sentinel.port)"
        return promise.futureResult.hop(to: eventLoop).map { reply -> Answer in
            if let parts = reply.array, parts.count == 2, let host = parts[0].string, let port = parts[1].string.flatMap({ Int($0) }) {
                return .primary(HostAndPort(host: host, port: port))
            }
            return .problem("\(name) answered \(reply == .null ? "that it does not know the master" : "\(reply)")")
        }.recover { error in
            .problem("\(name): \(error)")
        }.flatMap { answer in
            switch answer {
            case .primary(let address): eventLoop.makeSucceededFuture(address)
            case .problem(let problem): self.ask(sentinels, from: index + 1, on: eventLoop, tls: tls, problems: problems + [problem])
            }
        }
    }

    private enum Answer {
        case primary(HostAndPort)
        case problem(String)
    }
}
