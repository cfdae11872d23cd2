import Synchronization

/// Relay between nodes of one process: the embedded default, and what multi-node unit
/// tests use. Delivery is synchronous, so order is kept trivially.
package final class InProcessRelayBus: RelayBus {
    private struct State {
        var nodes: [String: any LocalDelivery] = [:]
        /// user → node → connections held.
        var holders: [String: [String: Int]] = [:]
        var inboxes: [String: Inbox] = [:]
    }

    /// A user's inbox in memory: trimmed to the policy's length, kept while the process lives.
    private struct Inbox {
        let epoch = InboxPolicy.makeEpoch()
        var latest: UInt64 = 0
        var pushes: [PushPayload] = []
    }

    private let state = Mutex(State())
    private let inbox: InboxPolicy

    package init(inbox: InboxPolicy = InboxPolicy()) {
        self.inbox = inbox
    }

    /// Delivered while the lock is held, so every holder sees the inbox's order.
    package func store(_ push: PushPayload, from originNodeID: String, forUser user: String, then answer: @escaping Answer<StoredPush>) {
        var push = push
        let maxLength = inbox.maxLength
        let stored = state.withLock { state -> StoredPush in
            var box = state.inboxes[user] ?? Inbox()
            box.latest += 1
            let position = InboxPosition(epoch: box.epoch, offset: box.latest)
            push.position = position
            box.pushes.append(push)
            if box.pushes.count > maxLength { box.pushes.removeFirst(box.pushes.count - maxLength) }
            state.inboxes[user] = box
            let targets = (state.holders[user] ?? [:]).keys.compactMap { state.nodes[$0] }
            for delivery in targets { _ = delivery.deliver(push, to: .user(user)) }
            return StoredPush(position: position, receivers: targets.count)
        }
        answer(.success(stored))
    }

    package func readInbox(of user: String, after: UInt64, until: UInt64?, limit: Int) async throws -> InboxRead {
        state.withLock { state in
            guard let box = state.inboxes[user] else { return InboxRead(epoch: nil, latest: 0, oldest: 0, pushes: []) }
            let wanted = box.pushes.filter { push in
                let offset = push.position?.offset ?? 0
                return offset > after && offset < (until ?? .max)
            }
            return InboxRead(
                epoch: box.epoch, latest: box.latest, oldest: box.pushes.first?.position?.offset ?? 0, pushes: Array(wanted.prefix(limit))
            )
        }
    }

    package func send(_ message: RelayMessage, toUser user: String, then answer: @escaping Answer<Int>) {
        let targets = state.withLock { state in
            (state.holders[user] ?? [:]).keys.compactMap { node in state.nodes[node].map { (node, $0) } }
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
        state.withLock { $0.holders[user, default: [:]][nodeID, default: 0] += 1 }
    }

    package func release(user: String, nodeID: String) {
        state.withLock { state in
            guard let count = state.holders[user]?[nodeID] else { return }
            state.holders[user]?[nodeID] = count > 1 ? count - 1 : nil
            if state.holders[user]?.isEmpty == true { state.holders[user] = nil }
        }
    }

    package func attach(nodeID: String, delivery: any LocalDelivery) async throws {
        state.withLock { $0.nodes[nodeID] = delivery }
    }

    package func detach(nodeID: String) async {
        _ = state.withLock { $0.nodes.removeValue(forKey: nodeID) }
    }
}

