import CoreMetrics
import Routing
import SwitchboardProtocol

extension GatewayNode {
    /// Routes a push, counting what crossed to other nodes and what could not.
    func push(_ push: Switchboard_V1_Push, to audience: PushAudience) async throws -> PushOutcome {
        try await counted { try await pushRouter.push(push, to: audience) }
    }

    /// Closes a user's connections on every node, counted like a push.
    func disconnect(user: String, reason: String) async throws -> PushOutcome {
        try await counted { try await pushRouter.disconnect(user: user, reason: reason) }
    }

    private func counted(_ route: () async throws -> PushOutcome) async throws -> PushOutcome {
        do {
            let outcome = try await route()
            metrics.relayOut.increment(by: Int64(outcome.relayedNodes))
            return outcome
        } catch {
            metrics.relayErrors.increment()
            throw error
        }
    }
}
