/// Who may subscribe to, or publish on, the topics of a namespace.
package enum TopicPermission: String, Sendable, CaseIterable {
    /// Any authenticated client.
    case any
    /// A client whose token's `topics` claim matches the topic (`TopicGrants`).
    case claim
    /// A client the namespace's authorizer backend allows (`TopicAuthorizer` in Protos/),
    /// asked by the node with a deadline and its answer cached briefly.
    case backend
    /// No client: only backends, through the Gateway API.
    case none
}
