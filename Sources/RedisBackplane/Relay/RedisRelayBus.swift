#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
package import Identity
package import Logging
import NIOCore
import Presence
package import Routing
package import RedisClient
import SwiftProtobuf
package import SwitchboardProtocol
import Synchronization

/// Relay through Redis pub/sub: a channel per user, held by the nodes that hold the
/// user's connections; a channel per node (pushes to one connection); one broadcast
/// channel. A push is one PUBLISH, written on the caller's event loop (its own Redis
/// connection, pipelined) whose answer — how many subscribers got it — is how many
/// nodes hold the target. The origin skips its own copy: it has delivered locally. A push
/// to a user that this node holds and knows no other node to hold (`HolderBook`) is not
/// published at all. Topics work the same way: a channel per topic, subscribed by the
/// nodes with a connection subscribed to it (their interest), and a publish to a topic
/// only this node is interested in costs no Redis traffic.
///
/// On a Redis Cluster the same runs on sharded pub/sub (SPUBLISH, a subscriber per
/// shard): a user's channel lives in the user's slot, so a push crosses only that shard.
package final class RedisRelayBus: RelayBus {
    private let redis: RedisConnectionGroup
    private let channels: RelayChannels
    private let nodeID: String
    private let logger: Logger
    private let subscriber: any RedisChannelSubscriber
    private let appendScript: RedisScript
    /// Appends to a topic's history and publishes, in one step.
    private let historyScript: RedisScript
    /// The inbox policy as the append script's arguments, formatted once.
    private let inboxArguments: (maxLength: [UInt8], ttlMilliseconds: [UInt8], sourceShare: [UInt8])
    /// PUBLISH, or SPUBLISH on a cluster.
    private let publishCommand: [UInt8]
    private let target = Target()
    private let book = HolderBook()
    /// The topics this node is interested in, kept like the users it holds.
    private let topicBook = HolderBook()
    /// Connections waiting to learn of every other holder of their user (before their
    /// welcome) or topic (before their subscribe's answer).
    private let waiters = Mutex<[RelaySubject: [EventLoopPromise<Void>]]>([:])
    /// How long a welcome waits for the user's channel to be subscribed and other holders
    /// to answer (a node that does not answer only costs PUBLISHes to that user until it
    /// does; while Redis is unreachable every welcome waits this long, then goes out:
    /// local delivery still works).
    private static let readyTimeout = TimeAmount.seconds(2)

    /// Where relayed messages go once attached: set from `attach`, read on the subscriber's loop.
    private final class Target: Sendable {
        let value = Mutex<(any LocalDelivery)?>(nil)
    }

    /// `channels` must be hash-tagged on a cluster (`RelayChannels(prefix:hashTagged:)`).
    package init(redis: RedisConnectionGroup, channels: RelayChannels, nodeID: String, inbox: InboxPolicy = InboxPolicy(), logger: Logger) {
        precondition(channels.hashTagged == redis.isCluster, "a cluster's channels carry hash tags")
        self.redis = redis
        inboxArguments = (Array(String(inbox.maxLength).utf8), Self.milliseconds(inbox.ttl), Array(String(inbox.sourceShare).utf8))
        self.channels = channels
        self.nodeID = nodeID
        self.logger = logger
        let publish = redis.isCluster ? "SPUBLISH" : "PUBLISH"
        publishCommand = Array(publish.utf8)
        appendScript = RedisScript(InboxScripts.append(publish: publish))
        historyScript = RedisScript(TopicHistoryScripts.append(publish: publish, numsub: redis.isCluster ? "SHARDNUMSUB" : "NUMSUB"))
        let box = Box()
        let (book, topicBook) = (self.book, self.topicBook)
        let fixed = [channels.node(nodeID), channels.broadcast]
        let wanted: RedisSubscriber.Wanted = { channel in
            if let user = channels.userOf(channel) { return book.holds(user) }
            return channels.topicOf(channel).map { topicBook.holds($0) } ?? false
        }
        let allWanted: RedisSubscriber.AllWanted = { book.users().map { channels.user($0) } + topicBook.users().map { channels.topic($0) } }
        let onMessage: RedisSubscriber.MessageHandler = { channel, payload in box.bus?.received(channel, payload) }
        let onSubscribed: RedisSubscriber.SubscribedHandler = { channel in box.bus?.subscribed(to: channel) }
        if let cluster = redis.cluster {
            subscriber = RedisClusterSubscriber(
                cluster: cluster, eventLoop: redis.firstLoop, channels: fixed, logger: logger, wanted: wanted, allWanted: allWanted,
                onMessage: onMessage,
                onShardLost: { served in
                    book.reset { served(channels.user($0)) }
                    topicBook.reset { served(channels.topic($0)) }
                },
                onSubscribed: onSubscribed
            )
        } else {
            subscriber = RedisSubscriber(
                endpoint: redis.endpoint, eventLoop: redis.firstLoop, channels: fixed, logger: logger,
                wanted: wanted, allWanted: allWanted, onMessage: onMessage,
                onState: { subscribed in
                    if !subscribed {
                        book.reset()
                        topicBook.reset()
                    }
                },
                onSubscribed: onSubscribed
            )
        }
        box.bus = self
    }

    /// Lets the subscriber's callbacks reach the bus that owns the subscriber.
    private final class Box: @unchecked Sendable {
        weak var bus: RedisRelayBus?
    }

    /// Subscribed to this node's channels, and able to publish.
    package var isHealthy: Bool {
        redis.isConnected && subscriber.isSubscribed
    }

    package func send(_ message: RelayMessage, toUser user: String, then answer: @escaping Answer<Int>) {
        guard book.mustPublish(user) else {
            // Held here alone: the local delivery was all of it.
            return answer(.success(1))
        }
        let book = self.book
        publish(channels.user(user), message) { result in
            if case .success(let receivers) = result { book.published(to: user, receivers: receivers) }
            answer(result)
        }
    }

    package func send(_ message: RelayMessage, toTopic topic: String, then answer: @escaping Answer<Int>) {
        guard topicBook.mustPublish(topic) else { return answer(.success(1)) }
        let topicBook = self.topicBook
        publish(channels.topic(topic), message) { result in
            if case .success(let receivers) = result { topicBook.published(to: topic, receivers: receivers) }
            answer(result)
        }
    }

    package func send(_ message: RelayMessage, to nodeID: String, then answer: @escaping Answer<Bool>) {
        publish(channels.node(nodeID), message) { answer($0.map { $0 > 0 }) }
    }

    /// Encoded once, for every node: the origin skips its own copy.
    package func broadcast(_ message: RelayMessage, then answer: @escaping Answer<Int>) {
        publish(channels.broadcast, message) { answer($0.map { max($0 - 1, 0) }) }
    }

    /// One script: XADD to the user's inbox, then PUBLISH on the user's channel with the
    /// position; every holder, this node included, delivers from the channel.
    package func store(
        _ push: PushPayload, from originNodeID: String, forUser user: String, beginsInbox: Bool, then answer: @escaping Answer<StoredPush>
    ) {
        let message = RelayMessage(originNodeID: originNodeID, audience: .user(user), content: .push(push))
        store(message, with: appendScript, book: book, name: user, then: answer) { payload in
            [
                Self.fourKeys, Array(channels.inbox(user).utf8), Array(channels.inboxEpoch(user).utf8), Array(presenceKeys.user(user).utf8),
                Array(channels.inboxSources(user).utf8),
                Array(channels.user(user).utf8), payload, inboxArguments.maxLength, inboxArguments.ttlMilliseconds,
                Array(InboxPolicy.makeEpoch().utf8), beginsInbox ? Self.yes : Self.no, Array((push.source ?? "").utf8), inboxArguments.sourceShare,
            ]
        }
    }

    /// One script: XADD to the topic's history, then PUBLISH on the topic's channel with
    /// the position; every interested node, this one included, delivers from the channel.
    package func store(
        _ push: PushPayload, from originNodeID: String, forTopic topic: String, except: ConnectionID?, history: TopicHistory,
        then answer: @escaping Answer<StoredPush>
    ) {
        let message = RelayMessage(originNodeID: originNodeID, audience: .topic(topic, except: except), content: .push(push))
        store(message, with: historyScript, book: topicBook, name: topic, then: answer) { payload in
            [
                Self.twoKeys, Array(channels.topicHistory(topic).utf8), Array(channels.topicHistoryEpoch(topic).utf8),
                Array(channels.topic(topic).utf8), payload, Array(String(history.maxLength).utf8), Self.milliseconds(history.ttl),
                Array(InboxPolicy.makeEpoch().utf8),
            ]
        }
    }

    /// Runs an append script (`arguments` around the encoded message) that answers
    /// {epoch, offset, receivers}; the receivers settle `book`'s view of `name`.
    private func store(
        _ message: RelayMessage, with script: RedisScript, book: HolderBook, name: String, then answer: @escaping Answer<StoredPush>,
        arguments: ([UInt8]) -> [[UInt8]]
    ) {
        var envelope = Switchboard_Relay_V1_RelayBatch()
        envelope.originNode = message.originNodeID
        envelope.items = [Self.item(message)]
        let payload: [UInt8]
        do {
            payload = try envelope.serializedBytes()
        } catch {
            return answer(.failure(error))
        }
        script.run(arguments(payload), on: redis) { result in
            switch result {
            case .success(.array(let values)) where values.count == 3:
                guard let epoch = values[0].string, let offset = values[1].string.flatMap({ UInt64($0) }), let receivers = values[2].integer else {
                    return answer(.failure(RedisError.server("unexpected append reply \(values)")))
                }
                book.published(to: name, receivers: Int(receivers))
                let position = epoch.isEmpty ? nil : InboxPosition(epoch: epoch, offset: offset)
                answer(.success(StoredPush(position: position, receivers: Int(receivers))))
            case .success(.error(let message)): answer(.failure(RedisError.server(message)))
            case .success(let reply): answer(.failure(RedisError.server("unexpected append reply \(reply)")))
            case .failure(let error): answer(.failure(error))
            }
        }
    }

    package func readHistory(of topic: String, after: UInt64, limit: Int, maxBytes: Int, beginning: TopicHistory?) async throws -> InboxRead {
        try await read(
            stream: channels.topicHistory(topic), epoch: channels.topicHistoryEpoch(topic), after: after, until: nil, limit: limit, maxBytes: maxBytes,
            beginning: beginning.map { Self.milliseconds($0.ttl) }, named: "topic \(topic)"
        )
    }

    package func readInbox(
        of user: String, after: UInt64, until: UInt64?, limit: Int, maxBytes: Int, beginning: Bool
    ) async throws -> InboxRead {
        try await read(
            stream: channels.inbox(user), epoch: channels.inboxEpoch(user), after: after, until: until, limit: limit, maxBytes: maxBytes,
            beginning: beginning ? inboxArguments.ttlMilliseconds : nil, named: "user \(user)"
        )
    }

    /// A ttl as the scripts take it: milliseconds, in decimal.
    private static func milliseconds(_ duration: Duration) -> [UInt8] {
        Array(String(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000).utf8)
    }

    /// An inbox's or a history's stored pushes; `beginning` (a ttl in ms): begin it if missing, and keep it that long.
    private func read(
        stream: String, epoch epochKey: String, after: UInt64, until: UInt64?, limit: Int, maxBytes: Int, beginning: [UInt8]?, named name: String
    ) async throws -> InboxRead {
        var arguments = [
            Self.twoKeys, Array(stream.utf8), Array(epochKey.utf8),
            Array(String(after).utf8), Array(String(until ?? 0).utf8), Array(String(max(limit, 0)).utf8), Array(String(max(maxBytes, 0)).utf8),
        ]
        if let beginning { arguments += [Array(InboxPolicy.makeEpoch().utf8), beginning] }
        let reply = try await Self.readScript.run(arguments, on: redis)
        guard let values = reply.array, values.count >= 3, values.count % 2 == 1, let epoch = values[0].string,
              let latest = values[1].string.flatMap({ UInt64($0) }), let oldest = values[2].string.flatMap({ UInt64($0) })
        else { throw RedisError.server("unexpected inbox reply \(reply)") }
        var pushes: [PushPayload] = []
        var index = 3
        while index < values.count {
            defer { index += 2 }
            guard let offset = values[index].string.flatMap({ UInt64($0) }), case .string(let bytes) = values[index + 1],
                  let batch = try? Switchboard_Relay_V1_RelayBatch(serializedBytes: bytes), let item = batch.items.first,
                  case .push(var push) = Self.content(item)
            else {
                logger.warning("skipping an undecodable stored push", metadata: ["stream": "\(name)"])
                continue
            }
            push.position = InboxPosition(epoch: epoch, offset: offset)
            pushes.append(push)
        }
        return InboxRead(epoch: epoch.isEmpty ? nil : epoch, latest: latest, oldest: oldest, pushes: pushes)
    }

    private static let twoKeys = Array("2".utf8)
    private static let threeKeys = Array("3".utf8)
    private static let fourKeys = Array("4".utf8)
    private static let (yes, no) = (Array("1".utf8), Array("0".utf8))
    /// Where the append script sees whether the user is connected.
    private var presenceKeys: PresenceKeys { PresenceKeys(prefix: channels.prefix, hashTagged: channels.hashTagged) }
    /// Every connect runs it (a welcome says where the inbox stands): by SHA, not its text.
    private static let readScript = RedisScript(InboxScripts.read)

    /// Subscribes to the user's channel; completes once every other node holding the user
    /// knows of this one (at once when Redis is unreachable: pushes are published then).
    package func hold(user: String, nodeID: String) async {
        await hold(.user(user))
    }

    package func release(user: String, nodeID: String) {
        release(.user(user))
    }

    /// Subscribes to the topic's channel once per node (the first subscribed connection);
    /// completes once every other interested node knows of this one.
    package func subscribe(topic: String, nodeID: String) async {
        await hold(.topic(topic))
    }

    package func unsubscribe(topic: String, nodeID: String) {
        release(.topic(topic))
    }

    private func book(_ subject: RelaySubject) -> (book: HolderBook, name: String, channel: String) {
        switch subject {
        case .user(let user): (book, user, channels.user(user))
        case .topic(let topic): (topicBook, topic, channels.topic(topic))
        }
    }

    private func hold(_ subject: RelaySubject) async {
        let (book, name, channel) = book(subject)
        if book.hold(name) { subscriber.refresh(channel) }
        // Also while the subscriber is still connecting (a node just started): a client
        // answered before its channel is subscribed would miss what is sent to it next.
        guard !book.isReady(name) else { return }
        let loop = redis.firstLoop
        let promise = loop.makePromise(of: Void.self)
        waiters.withLock { $0[subject, default: []].append(promise) }
        if book.isReady(name) { promise.succeed() }  // became ready meanwhile
        let timeout = loop.scheduleTask(in: Self.readyTimeout) { promise.succeed() }
        try? await promise.futureResult.get()
        timeout.cancel()
        waiters.withLock { waiters in
            waiters[subject]?.removeAll { $0.futureResult === promise.futureResult }
            if waiters[subject]?.isEmpty == true { waiters[subject] = nil }
            // A burst of connects grew the table; give its storage back once it is empty.
            if waiters.isEmpty { waiters = [:] }
        }
    }

    private func release(_ subject: RelaySubject) {
        let (book, name, channel) = book(subject)
        if book.release(name) {
            subscriber.refresh(channel)
            announce(.left, subject)
        }
    }

    /// Whether `user`'s channel is subscribed and every other holder known (what `hold`
    /// waits for, at most `readyTimeout`).
    package func reaches(user: String) -> Bool { book.isReady(user) }
    package func reaches(topic: String) -> Bool { topicBook.isReady(topic) }

    private func subject(of channel: String) -> RelaySubject? {
        if let user = channels.userOf(channel) { return .user(user) }
        return channels.topicOf(channel).map { .topic($0) }
    }

    /// The subscription to a held user's or topic's channel is acknowledged (again, after
    /// a reconnect): say so on it, and learn from the answer how many others hold it. For a
    /// user, it may end a cut in the relay: the local delivery catches up (the first
    /// acknowledgement, for a user newly held, finds no welcomed connection to catch up).
    private func subscribed(to channel: String) {
        guard let subject = subject(of: channel) else { return }
        let (book, name, _) = book(subject)
        guard book.holds(name) else { return }
        if case .user(let user) = subject { target.value.withLock { $0 }?.relayResumed(user: user) }
        announce(.joined, subject) { result in
            if case .success(let receivers) = result, book.joined(name, receivers: receivers) { self.wakeWaiters(subject) }
        }
    }

    private func announce(_ change: Switchboard_Relay_V1_Holding.Change, _ subject: RelaySubject, then answer: @escaping Answer<Int> = { _ in }) {
        var envelope = Switchboard_Relay_V1_RelayBatch()
        envelope.originNode = nodeID
        switch subject {
        case .user(let user): envelope.holding.user = user
        case .topic(let topic): envelope.holding.topic = topic
        }
        envelope.holding.change = change
        publish(book(subject).channel, envelope, then: answer)
    }

    private func wakeWaiters(_ subject: RelaySubject) {
        let ready = waiters.withLock { $0[subject] ?? [] }
        ready.forEach { $0.succeed() }
    }

    /// A message on one of this node's channels, on the subscriber's loop.
    private func received(_ channel: [UInt8], _ payload: [UInt8]) {
        guard let batch = try? Switchboard_Relay_V1_RelayBatch(serializedBytes: payload) else {
            logger.warning("dropping an undecodable relay message", metadata: ["channel": "\(String(decoding: channel, as: UTF8.self))"])
            return
        }
        // A durable push comes back to its origin too: every holder delivers in inbox order.
        let position = batch.inboxOffset.isEmpty ? nil : UInt64(batch.inboxOffset).map { InboxPosition(epoch: batch.inboxEpoch, offset: $0) }
        if batch.originNode == nodeID && position == nil { return }
        if batch.hasHolding {
            let subject: RelaySubject = batch.holding.topic.isEmpty ? .user(batch.holding.user) : .topic(batch.holding.topic)
            let (book, name, _) = book(subject)
            switch batch.holding.change {
            case .joined:
                // Learn of the newcomer first, then answer: after our HERE reaches it, every
                // push we route to the user or topic is published.
                if book.heard(batch.originNode, holds: name) { wakeWaiters(subject) }
                if book.holds(name) { announce(.here, subject) }
            case .here:
                if book.heard(batch.originNode, holds: name) { wakeWaiters(subject) }
            case .left:
                book.heard(batch.originNode, left: name)
            case .UNRECOGNIZED:
                break
            }
            return
        }
        guard let delivery = target.value.withLock({ $0 }) else { return }
        for item in batch.items {
            guard let audience = Self.audience(item) else { continue }
            var content = Self.content(item)
            if let position, case .push(var push) = content {
                push.position = position
                content = .push(push)
            }
            _ = delivery.handle(content, for: audience)
        }
    }

    static func content(_ item: Switchboard_Relay_V1_RelayItem) -> RelayMessage.Content {
        guard !item.hasDisconnect else { return .disconnect(reason: item.disconnect.reason) }
        if !item.subscribe.isEmpty { return .subscribe(topic: item.subscribe) }
        if !item.unsubscribe.isEmpty { return .unsubscribe(topic: item.unsubscribe) }
        var push = PushPayload(
            from: item.from, kind: item.kind, data: item.hasDataJson ? Array(item.dataJson) : nil,
            origin: item.fromBackend ? .backend : .user
        )
        push.causedBy = item.causedBy.isEmpty ? nil : item.causedBy
        if case .topic(let topic) = item.audience { push.topic = topic }
        return .push(push)
    }

    private func publish(_ channel: String, _ message: RelayMessage, then answer: @escaping Answer<Int>) {
        var envelope = Switchboard_Relay_V1_RelayBatch()
        envelope.originNode = message.originNodeID
        envelope.items = [Self.item(message)]
        publish(channel, envelope, then: answer)
    }

    /// PUBLISH (SPUBLISH) from the caller's loop's connection; answers how many subscribers got it.
    private func publish(_ channel: String, _ envelope: Switchboard_Relay_V1_RelayBatch, then answer: @escaping Answer<Int>) {
        let payload: [UInt8]
        do {
            payload = try envelope.serializedBytes()
        } catch {
            return answer(.failure(error))
        }
        let channelBytes = Array(channel.utf8)
        redis.send(RedisCommand([publishCommand, channelBytes, payload]), key: channelBytes) { result in
            switch result {
            case .success(.integer(let receivers)): answer(.success(Int(receivers)))
            case .success(.error(let message)): answer(.failure(RedisError.server(message)))
            case .success(let reply): answer(.failure(RedisError.server("unexpected PUBLISH reply \(reply)")))
            case .failure(let error): answer(.failure(error))
            }
        }
    }


    package func attach(nodeID: String, delivery: any LocalDelivery) async throws {
        target.value.withLock { $0 = delivery }
        subscriber.start()
    }

    package func detach(nodeID: String) async {
        target.value.withLock { $0 = nil }
        subscriber.stop()
    }

    static func item(_ message: RelayMessage) -> Switchboard_Relay_V1_RelayItem {
        var item = Switchboard_Relay_V1_RelayItem()
        switch message.audience {
        case .user(let user): item.user = user
        case .connection(let connection): item.connection = connection.description
        case .everyone: item.everyone = true
        case .topic(let topic, let except):
            item.topic = topic
            item.exceptConnection = except?.description ?? ""
        }
        switch message.content {
        case .push(let push):
            item.from = push.from
            item.kind = push.kind
            item.fromBackend = push.origin == .backend
            item.causedBy = push.causedBy ?? ""
            if let data = push.data { item.dataJson = Data(data) }
        case .disconnect(let reason): item.disconnect.reason = reason
        case .subscribe(let topic): item.subscribe = topic
        case .unsubscribe(let topic): item.unsubscribe = topic
        }
        return item
    }

    package static func audience(_ item: Switchboard_Relay_V1_RelayItem) -> PushAudience? {
        switch item.audience {
        case .user(let user): .user(user)
        case .connection(let text): ConnectionID(text).map { .connection($0) }
        case .everyone: .everyone
        case .topic(let topic): .topic(topic, except: item.exceptConnection.isEmpty ? nil : ConnectionID(item.exceptConnection))
        case nil: nil
        }
    }
}
