/// The rules of the topics whose names begin with `name:`.
package struct TopicNamespace: Sendable, Equatable {
    package var name: String
    package var subscribe: TopicPermission
    package var publish: TopicPermission
    /// Whether a publisher's own connection gets its message back.
    package var echo: Bool
    /// Whether subscribers are told when a connection subscribes or unsubscribes
    /// (`switchboard.join` / `switchboard.leave` pushes).
    package var joins: Bool
    /// Whether the cluster keeps who is subscribed (topic presence), which a client that
    /// may subscribe can ask for. Each subscribe and unsubscribe then writes to Redis.
    package var presence: Bool
    /// What the namespace keeps of each topic's publishes; nil: none (pushes are live only).
    package var history: TopicHistory?

    /// What a namespace declared with no options allows: clients with a matching `topics`
    /// claim, nothing wider unless the operator says so.
    package init(name: String, subscribe: TopicPermission = .claim, publish: TopicPermission = .claim, echo: Bool = true, joins: Bool = false, presence: Bool = false, history: TopicHistory? = nil) {
        self.name = name
        self.subscribe = subscribe
        self.publish = publish
        self.echo = echo
        self.joins = joins
        self.presence = presence
        self.history = history
    }

    /// Whether a client holding `grants` may do what `permission` guards on `topic`; false
    /// for `.backend`, whose answer only the authorizer gives.
    package static func allows(_ permission: TopicPermission, _ topic: String, grants: TopicGrants) -> Bool {
        switch permission {
        case .any: true
        case .claim: grants.allows(topic)
        case .none, .backend: false
        }
    }

    /// Whether either permission asks the authorizer backend.
    package var asksBackend: Bool { subscribe == .backend || publish == .backend }
}
