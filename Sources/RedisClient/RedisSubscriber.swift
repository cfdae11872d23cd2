import Essentials
package import Logging
package import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The subscriber connection, on one event loop: subscribed to a fixed set of channels
/// for its whole life, and to the others its owner wants (`wanted`, asked again on every
/// `refresh(_:)` and, for all of them, `allWanted` on every reconnect). The owner keeps
/// the only record of what it wants — the subscriber stores no channel names, so a held
/// channel costs no memory here — and because each refresh subscribes or unsubscribes by
/// what is wanted when it runs, refreshes from several threads converge whatever their
/// order. Messages are handed to `onMessage` on this loop, in order. When the connection
/// breaks it reconnects with jittered backoff and subscribes to everything again,
/// unprompted; `onState` learns each change of `isSubscribed` (the fixed channels are
/// acknowledged); `onSubscribed` learns each other channel's acknowledgement (again after
/// every reconnect). hiredis 0.14 misroutes PING replies in subscribe mode, so liveness
/// comes from the socket and from messages on the node's own channel.
///
/// `sharded`: Redis 7's sharded pub/sub (SSUBSCRIBE), one subscriber per cluster shard
/// (`RedisClusterSubscriber`); a shard holding none of the fixed channels counts as
/// subscribed once connected.
package final class RedisSubscriber: Sendable {
    package typealias MessageHandler = @Sendable (_ channel: [UInt8], _ payload: [UInt8]) -> Void
    package typealias StateHandler = @Sendable (_ subscribed: Bool) -> Void
    package typealias SubscribedHandler = @Sendable (_ channel: String) -> Void
    package typealias Wanted = @Sendable (_ channel: String) -> Bool
    package typealias AllWanted = @Sendable () -> [String]

    package let endpoint: RedisEndpoint
    /// `rediss://`: the TLS context every new socket starts with (made once).
    private let tls: Result<NIOSSLContext?, any Error>
    package let eventLoop: any EventLoop
    private let fixedChannels: [String]
    private let sharded: Bool
    private let onMessage: MessageHandler
    private let onState: StateHandler
    private let onSubscribed: SubscribedHandler
    private let wanted: Wanted
    private let allWanted: AllWanted
    private let logger: Logger
    private let state: NIOLoopBoundBox<State>
    private let subscribed = Atomic<Bool>(false)
    /// Channels per SUBSCRIBE when subscribing to everything again.
    private static let batch = 1000

    private struct State {
        var channel: (any Channel)?
        /// Fixed channels not yet acknowledged on this connection.
        var awaitingAcks = Set<String>()
        var backoff = TimeAmount.milliseconds(50)
        var reconnect: Scheduled<Void>?
        var stopped = false
    }

    package init(
        endpoint: RedisEndpoint, eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(), channels: [String],
        sharded: Bool = false, logger: Logger, wanted: @escaping Wanted = { _ in false }, allWanted: @escaping AllWanted = { [] },
        onMessage: @escaping MessageHandler, onState: @escaping StateHandler = { _ in },
        onSubscribed: @escaping SubscribedHandler = { _ in }
    ) {
        self.endpoint = endpoint
        self.eventLoop = eventLoop
        fixedChannels = channels
        self.sharded = sharded
        self.onMessage = onMessage
        self.onState = onState
        self.onSubscribed = onSubscribed
        self.wanted = wanted
        self.allWanted = allWanted
        self.logger = logger
        state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: eventLoop)
        tls = Result { try endpoint.makeTLSContext() }
    }

    package var isSubscribed: Bool { subscribed.load(ordering: .relaxed) }

    package func start() {
        eventLoop.execute { self.connect() }
    }

    /// Ends the subscription without waiting for the socket to close.
    package func stop() {
        eventLoop.execute {
            self.state.value.stopped = true
            self.state.value.reconnect?.cancel()
            self.state.value.channel?.close(promise: nil)
            self.setSubscribed(false)
        }
    }

    /// Subscribes to `channel` when it is wanted now, else unsubscribes (either is
    /// harmless when already so). While disconnected, nothing is sent: the reconnect
    /// subscribes to everything wanted then.
    package func refresh(_ channel: String) {
        onLoop {
            let subscribe = self.wanted(channel)
            self.write([self.sharded ? (subscribe ? "SSUBSCRIBE" : "SUNSUBSCRIBE") : (subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE"), channel])
        }
    }

    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { body() } else { eventLoop.execute(body) }
    }

    private func write(_ arguments: [String]) {
        guard let channel = state.value.channel else { return }  // subscribed on connect
        channel.writeAndFlush(RESPHandler.Request(command: RedisCommand(arguments), reply: nil), promise: nil)
    }

    private func connect() {
        guard !state.value.stopped else { return }
        let box = NIOLoopBound(self, eventLoop: eventLoop)
        // Subscribe mode sends no replies to commands but the acknowledgements, so a
        // stalled-command watchdog does not apply: a very long timeout.
        endpoint.connect(on: eventLoop, tls: tls, timeout: TimeAmount(endpoint.connectTimeout)) {
            RESPHandler(commandTimeout: .hours(24)) { reply in box.value.received(reply) }
        }
        .whenComplete { result in self.connected(result) }
    }

    private func connected(_ result: Result<any Channel, any Error>) {
        switch result {
        case .success(let channel):
            guard !state.value.stopped else {
                channel.close(promise: nil)
                return
            }
            state.value.channel = channel
            state.value.awaitingAcks = Set(fixedChannels)
            channel.closeFuture.whenComplete { _ in self.lost(channel) }
            // Signed in first; a refusal closes the socket (and the SUBSCRIBEs behind it
            // were refused too), so the subscriber retries with its backoff.
            for command in endpoint.handshake {
                let endpoint = self.endpoint
                let logger = self.logger
                channel.write(RESPHandler.Request(command: RedisCommand(command)) { reply in
                    switch reply {
                    case .success(.error(let message)):
                        logger.error("redis refused \(command[0]) for the subscriber", metadata: ["redis": "\(endpoint)", "error": "\(message)"])
                        channel.close(promise: nil)
                    case .success(let reply) where command == ["ROLE"] && !RedisEndpoint.isPrimary(reply):
                        // Named primary while being demoted: ask the sentinels again.
                        channel.close(promise: nil)
                    default:
                        break
                    }
                }, promise: nil)
            }
            let everything = fixedChannels + allWanted()
            var start = 0
            while start < everything.count {
                // A sharded SSUBSCRIBE names channels of one slot only: one each.
                let end = min(start + (sharded ? 1 : Self.batch), everything.count)
                channel.write(RESPHandler.Request(command: RedisCommand([sharded ? "SSUBSCRIBE" : "SUBSCRIBE"] + everything[start..<end]), reply: nil), promise: nil)
                start = end
            }
            channel.flush()
            if fixedChannels.isEmpty {
                state.value.backoff = .milliseconds(50)
                setSubscribed(true)
            }
        case .failure(let error):
            logger.warning("redis subscriber cannot connect; retrying", metadata: ["redis": "\(endpoint)", "error": "\(error)"])
            retryLater()
        }
    }

    private func lost(_ channel: any Channel) {
        guard state.value.channel === channel else { return }
        state.value.channel = nil
        setSubscribed(false)
        guard !state.value.stopped else { return }
        logger.warning("redis subscriber disconnected; retrying", metadata: ["redis": "\(endpoint)"])
        retryLater()
    }

    private func retryLater() {
        let backoff = state.value.backoff
        state.value.backoff = min(backoff * 2, .seconds(1))
        let jittered = TimeAmount.nanoseconds(Int64.random(in: backoff.nanoseconds / 2...backoff.nanoseconds))
        state.value.reconnect = eventLoop.scheduleTask(in: jittered) { self.connect() }
    }

    private func received(_ reply: RedisReply) {
        guard case .array(let parts) = reply, parts.count == 3, case .string(let kind) = parts[0] else { return }
        switch kind {
        case Self.message, Self.shardMessage:
            guard case .string(let channel) = parts[1], case .string(let payload) = parts[2] else { return }
            onMessage(channel, payload)
        case Self.subscribe, Self.shardSubscribe:
            guard let channel = parts[1].string else { return }
            if state.value.awaitingAcks.remove(channel) != nil {
                if state.value.awaitingAcks.isEmpty {
                    state.value.backoff = .milliseconds(50)
                    setSubscribed(true)
                }
            } else if wanted(channel) {
                onSubscribed(channel)
            }
        default:
            break
        }
    }

    private static let message = Array("message".utf8)
    private static let subscribe = Array("subscribe".utf8)
    private static let shardMessage = Array("smessage".utf8)
    private static let shardSubscribe = Array("ssubscribe".utf8)

    private func setSubscribed(_ value: Bool) {
        if subscribed.exchange(value, ordering: .relaxed) != value {
            if value { logger.info("redis subscribed", metadata: ["redis": "\(endpoint)", "channels": "\(fixedChannels)"]) }
            onState(value)
        }
    }
}
