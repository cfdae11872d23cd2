import CoreMetrics
import Identity
import Logging
import Routing

/// Local delivery of what other nodes relayed here, counted on the way; after a cut in
/// the relay, what the inbox kept meanwhile (`RelayedDelivery+CatchUp`).
struct RelayedDelivery: LocalDelivery {
    let local: ConnectionRegistry
    let metrics: NodeMetrics
    /// Where a catch-up reads the inbox.
    let bus: any RelayBus
    let logger: Logger

    func deliver(_ push: PushPayload, to audience: PushAudience) -> Int {
        metrics.relayIn.increment()
        return local.deliver(push, to: audience)
    }

    func holds(user: String) -> Bool {
        local.holds(user: user)
    }

    func count(of user: String) -> Int {
        local.count(of: user)
    }

    func holds(topic: String) -> Bool {
        local.holds(topic: topic)
    }

    func count(ofTopic topic: String, except: ConnectionID?) -> Int {
        local.count(ofTopic: topic, except: except)
    }

    func change(_ audience: PushAudience, topic: String, subscribe: Bool) -> Int {
        metrics.relayIn.increment()
        return local.change(audience, topic: topic, subscribe: subscribe)
    }

    func disconnect(_ audience: PushAudience, reason: String) -> Int {
        metrics.relayIn.increment()
        return local.disconnect(audience, reason: reason)
    }
}
