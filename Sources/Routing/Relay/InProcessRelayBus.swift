package import Identity
import Synchronization

/// Relay between nodes of one process: the embedded default, and what multi-node unit
/// tests use. Delivery is synchronous, so order is kept trivially.
package final class InProcessRelayBus: RelayBus {
    fileprivate struct State {
        var nodes: [String: any LocalDelivery] = [:]
        /// user → node → connections held.
        var holders: [String: [String: Int]] = [:]
        /// topic → node → connections subscribed.
        var interest: [String: [String: Int]] = [:]
        var inboxes: [String: Inbox] = [:]
        /// Topics' histories: inboxes of a topic's publishes, by topic.
        var histories: [String: Inbox] = [:]
        /// Inboxes after the last sweep of expired ones: the next comes at twice as many.
        var sweptDownTo = 0
    }

    /// A user's inbox in memory: trimmed to the policy's length, gone `ttl` after its latest
    /// push or connect, as in Redis.
    fileprivate struct Inbox {
        let epoch = InboxPolicy.makeEpoch()
        var latest: UInt64 = 0
        var pushes: [PushPayload] = []
        var expires: ContinuousClock.Instant

        /// False when `source` holds its share and none of its entries is among the first
        /// 64 (its push is then not kept); else true, having dropped its oldest if at its share.
        mutating func makeRoom(for source: String?, share: Int) -> Bool {
            guard let source, pushes.lazy.filter({ $0.source == source }).count >= share else { return true }
            guard let own = pushes.prefix(64).firstIndex(where: { $0.source == source }) else { return false }
            pushes.remove(at: own)
            return true
        }
    }

    private let state = Mutex(State())
    private let inbox: InboxPolicy
    private let now: @Sendable () -> ContinuousClock.Instant

    /// `now`: the clock inboxes expire by (tests pass their own).
    package init(inbox: InboxPolicy = InboxPolicy(), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.inbox = inbox
        self.now = now
    }

    /// Inboxes held in memory, expired ones not yet swept included.
    package var inboxCount: Int { state.withLock { $0.inboxes.count } }

    /// Delivered while the lock is held, so every holder sees the inbox's order.
    package func store(
        _ push: PushPayload, from originNodeID: String, forUser user: String, beginsInbox: Bool, then answer: @escaping Answer<StoredPush>
    ) {
        var push = push
        let (maxLength, share, now, ttl) = (inbox.maxLength, inbox.sourceShare, now(), inbox.ttl)
        let stored = state.withLock { state -> StoredPush in
            let targets = (state.holders[user] ?? [:]).keys.compactMap { state.nodes[$0] }
            var position: InboxPosition?
            // As the Redis script: a user at its share replaces its own oldest entry among
            // the first 64, or is delivered live only; entries leave from the head.
            if var box = state.live(user, in: \.inboxes, at: now) ?? ((beginsInbox || !targets.isEmpty) ? Inbox(expires: now) : nil),
               box.makeRoom(for: push.source, share: share) {
                box.latest += 1
                position = InboxPosition(epoch: box.epoch, offset: box.latest)
                push.position = position
                box.pushes.append(push)
                if box.pushes.count > maxLength { box.pushes.removeFirst(box.pushes.count - maxLength) }
                box.expires = now + ttl
                state.keep(box, for: user, in: \.inboxes, at: now)
            }
            for delivery in targets { _ = delivery.deliver(push, to: .user(user)) }
            return StoredPush(position: position, receivers: targets.count)
        }
        answer(.success(stored))
    }

    /// As `store(…forUser:…)`: delivered while the lock is held, in the history's order.
    package func store(
        _ push: PushPayload, from originNodeID: String, forTopic topic: String, except: ConnectionID?, history: TopicHistory,
        then answer: @escaping Answer<StoredPush>
    ) {
        var push = push
        let now = now()
        let stored = state.withLock { state -> StoredPush in
            let targets = (state.interest[topic] ?? [:]).keys.compactMap { state.nodes[$0] }
            var position: InboxPosition?
            if var box = state.live(topic, in: \.histories, at: now) ?? (targets.isEmpty ? nil : Inbox(expires: now)) {
                box.latest += 1
                position = InboxPosition(epoch: box.epoch, offset: box.latest)
                push.position = position
                box.pushes.append(push)
                if box.pushes.count > history.maxLength { box.pushes.removeFirst(box.pushes.count - history.maxLength) }
                box.expires = now + history.ttl
                state.keep(box, for: topic, in: \.histories, at: now)
            }
            for delivery in targets { _ = delivery.deliver(push, to: .topic(topic, except: except)) }
            return StoredPush(position: position, receivers: targets.count)
        }
        answer(.success(stored))
    }

    package func readHistory(of topic: String, after: UInt64, limit: Int, maxBytes: Int, beginning: TopicHistory?) async throws -> InboxRead {
        try await read(topic, in: \.histories, after: after, until: nil, limit: limit, maxBytes: maxBytes, beginning: beginning?.ttl)
    }

    package func readInbox(
        of user: String, after: UInt64, until: UInt64?, limit: Int, maxBytes: Int, beginning: Bool
    ) async throws -> InboxRead {
        try await read(user, in: \.inboxes, after: after, until: until, limit: limit, maxBytes: maxBytes, beginning: beginning ? inbox.ttl : nil)
    }

    /// An inbox's or a history's stored pushes; `beginning`: begin it if missing, and keep it that long.
    private func read(
        _ key: String, in table: WritableKeyPath<State, [String: Inbox]>, after: UInt64, until: UInt64?, limit: Int, maxBytes: Int,
        beginning ttl: Duration?
    ) async throws -> InboxRead {
        let now = now()
        return state.withLock { state in
            if let ttl {
                var box = state.live(key, in: table, at: now) ?? Inbox(expires: now)
                box.expires = now + ttl
                state.keep(box, for: key, in: table, at: now)
            }
            guard let box = state.live(key, in: table, at: now) else { return InboxRead(epoch: nil, latest: 0, oldest: 0, pushes: []) }
            let wanted = box.pushes.filter { push in
                let offset = push.position?.offset ?? 0
                return offset > after && offset < (until ?? .max)
            }
            var budget = maxBytes
            var count = 0
            for push in wanted.prefix(limit) {
                let size = push.from.utf8.count + push.kind.utf8.count + (push.data?.count ?? 0)
                if size > budget && count > 0 { break }
                budget -= size
                count += 1
            }
            return InboxRead(
                epoch: box.epoch, latest: box.latest, oldest: box.pushes.first?.position?.offset ?? 0, pushes: Array(wanted.prefix(count))
            )
        }
    }

    package func send(_ message: RelayMessage, toUser user: String, then answer: @escaping Answer<Int>) {
        relay(message, toHoldersOf: user, in: \.holders, then: answer)
    }

    package func send(_ message: RelayMessage, toTopic topic: String, then answer: @escaping Answer<Int>) {
        relay(message, toHoldersOf: topic, in: \.interest, then: answer)
    }

    /// To every node counted for `key` in `table` but the origin; answers how many are counted.
    private func relay(
        _ message: RelayMessage, toHoldersOf key: String, in table: KeyPath<State, [String: [String: Int]]>, then answer: Answer<Int>
    ) {
        let targets = state.withLock { state in
            (state[keyPath: table][key] ?? [:]).keys.compactMap { node in state.nodes[node].map { (node, $0) } }
        }
        for (node, delivery) in targets where node != message.originNodeID {
            _ = delivery.handle(message.content, for: message.audience)
        }
        answer(.success(targets.count))
    }

    package func send(_ message: RelayMessage, to nodeID: String, then answer: @escaping Answer<Bool>) {
        guard let delivery = state.withLock({ $0.nodes[nodeID] }) else { return answer(.success(false)) }
        _ = delivery.handle(message.content, for: message.audience)
        answer(.success(true))
    }

    package func broadcast(_ message: RelayMessage, then answer: @escaping Answer<Int>) {
        let others = state.withLock { $0.nodes.filter { $0.key != message.originNodeID }.map(\.value) }
        for delivery in others {
            _ = delivery.handle(message.content, for: message.audience)
        }
        answer(.success(others.count))
    }

    package func hold(user: String, nodeID: String) async {
        state.withLock { $0.holders.count(user, nodeID, by: 1) }
    }

    package func release(user: String, nodeID: String) {
        state.withLock { $0.holders.count(user, nodeID, by: -1) }
    }

    package func subscribe(topic: String, nodeID: String) async {
        state.withLock { $0.interest.count(topic, nodeID, by: 1) }
    }

    package func unsubscribe(topic: String, nodeID: String) {
        state.withLock { $0.interest.count(topic, nodeID, by: -1) }
    }

    package func attach(nodeID: String, delivery: any LocalDelivery) async throws {
        state.withLock { $0.nodes[nodeID] = delivery }
    }

    package func detach(nodeID: String) async {
        _ = state.withLock { $0.nodes.removeValue(forKey: nodeID) }
    }
}

extension InProcessRelayBus.State {
    /// The user's inbox (or topic's history) unless it has expired (then it is gone).
    fileprivate mutating func live(
        _ key: String, in table: WritableKeyPath<Self, [String: InProcessRelayBus.Inbox]>, at now: ContinuousClock.Instant
    ) -> InProcessRelayBus.Inbox? {
        guard let box = self[keyPath: table][key] else { return nil }
        guard box.expires > now else {
            self[keyPath: table][key] = nil
            return nil
        }
        return box
    }

    /// Stores `box`; sweeps expired inboxes and histories each time their number has doubled.
    fileprivate mutating func keep(
        _ box: InProcessRelayBus.Inbox, for key: String, in table: WritableKeyPath<Self, [String: InProcessRelayBus.Inbox]>,
        at now: ContinuousClock.Instant
    ) {
        self[keyPath: table][key] = box
        guard inboxes.count + histories.count > max(2 * sweptDownTo, 1024) else { return }
        inboxes = inboxes.filter { $0.value.expires > now }
        histories = histories.filter { $0.value.expires > now }
        sweptDownTo = inboxes.count + histories.count
    }
}

extension [String: [String: Int]] {
    /// Adds `change` to what `node` holds of `key`, forgetting both when they reach zero.
    fileprivate mutating func count(_ key: String, _ node: String, by change: Int) {
        let count = (self[key]?[node] ?? 0) + change
        self[key, default: [:]][node] = count > 0 ? count : nil
        if self[key]?.isEmpty == true { self[key] = nil }
    }
}
