/// What a valid client token says about its holder.
package struct VerifiedToken: Sendable, Equatable {
    package let user: String
    /// The token's `admin` claim: may read the cluster's stats (`switchboard.cluster`).
    package let isAdmin: Bool
    /// When the token expires (unix ms): the node closes the connection then (4001) unless
    /// the client sends a fresh token first.
    package let expiresAtMs: Int64
    /// The token's `topics` claim: topic names, or prefixes ending in `*`.
    package let topics: [String]

    package init(user: String, isAdmin: Bool, expiresAtMs: Int64 = .max, topics: [String] = []) {
        self.user = user
        self.isAdmin = isAdmin
        self.expiresAtMs = expiresAtMs
        self.topics = topics
    }
}
