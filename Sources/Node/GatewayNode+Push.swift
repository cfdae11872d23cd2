import Routing
import SwitchboardProtocol

extension GatewayNode {
    /// Routes a push, counting what crossed to other nodes and what could not.
    func push(_ push: Switchboard_V1_Push, to audience: PushAudience) async throws -> PushOutcome {
        do {
            let outcome = try await pushRouter.push(push, to: audience)
            metrics.relayOut.increment(by: Int64(outcome.relayedNodes))
            return outcome
        } catch {
            metrics.relayErrors.increment()
            throw error
        }
    }
}
