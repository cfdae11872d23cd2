import CoreMetrics
import NIOCore
import Routing

extension GatewayNode {
    /// Routes a push, counting what crossed to other nodes and what could not. The
    /// future completes on the caller's event loop when it runs on one.
    func push(_ push: PushPayload, to audience: PushAudience) -> EventLoopFuture<PushOutcome> {
        counted(pushRouter.push(push, to: audience))
    }

    func push(_ push: PushPayload, to audience: PushAudience) async throws -> PushOutcome {
        try await self.push(push, to: audience).get()
    }

    /// Closes a user's connections on every node, counted like a push.
    func disconnect(user: String, reason: String) async throws -> PushOutcome {
        try await counted(pushRouter.disconnect(user: user, reason: reason)).get()
    }

    private func counted(_ outcome: EventLoopFuture<PushOutcome>) -> EventLoopFuture<PushOutcome> {
        let metrics = self.metrics
        outcome.whenComplete { result in
            switch result {
            case .success(let outcome): metrics.relayOut.increment(by: Int64(outcome.relayedNodes))
            case .failure: metrics.relayErrors.increment()
            }
        }
        return outcome
    }
}
