import SwitchboardProtocol

extension LocalDelivery {
    /// Delivers or disconnects, as `content` says; how many connections it reached.
    package func handle(_ content: RelayMessage.Content, for audience: PushAudience) -> Int {
        switch content {
        case .push(let push): deliver(push, to: audience)
        case .disconnect(let reason): disconnect(audience, reason: reason)
        case .subscribe(let topic): change(audience, topic: topic, subscribe: true)
        case .unsubscribe(let topic): change(audience, topic: topic, subscribe: false)
        }
    }
}
