import CoreMetrics
import Routing

/// Pushes from a client or a backend, routed to their audience on any node and counted:
/// what crossed to other nodes, and what could not.
struct PushDelivery: Sendable {
    let router: PushRouter
    let metrics: NodeMetrics

    /// Routes a push; answers on the caller's event loop when it runs on one.
    /// `beginsInbox`: see `RelayBus.store`.
    /// `history`: a publish to a topic whose namespace keeps its publishes.
    func push(
        _ push: PushPayload, to audience: PushAudience, durable: Bool = false, beginsInbox: Bool = false, history: TopicHistory? = nil,
        then answer: @escaping PushRouter.Answer
    ) {
        router.push(push, to: audience, durable: durable, beginsInbox: beginsInbox, history: history, then: counted(answer))
    }

    func push(_ push: PushPayload, to audience: PushAudience, durable: Bool = false, beginsInbox: Bool = false) async throws -> PushOutcome {
        try await withCheckedThrowingContinuation { continuation in
            self.push(push, to: audience, durable: durable, beginsInbox: beginsInbox) { continuation.resume(with: $0) }
        }
    }

    /// Subscribes a user's connections (or one connection) to `topic` on every node, or ends that.
    func change(_ audience: PushAudience, topic: String, subscribe: Bool) async throws -> PushOutcome {
        try await withCheckedThrowingContinuation { continuation in
            router.change(audience, topic: topic, subscribe: subscribe) { continuation.resume(with: $0) }
        }
    }

    /// Closes a user's connections on every node, counted like a push.
    func disconnect(user: String, reason: String) async throws -> PushOutcome {
        try await withCheckedThrowingContinuation { continuation in
            router.disconnect(user: user, reason: reason, then: counted { continuation.resume(with: $0) })
        }
    }

    private func counted(_ answer: @escaping PushRouter.Answer) -> PushRouter.Answer {
        let metrics = self.metrics
        return { result in
            switch result {
            case .success(let outcome): metrics.relayOut.increment(by: Int64(outcome.relayedNodes))
            case .failure: metrics.relayErrors.increment()
            }
            answer(result)
        }
    }
}
