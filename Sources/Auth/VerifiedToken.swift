/// What a valid client token says about its holder.
package struct VerifiedToken: Sendable, Equatable {
    package let user: String
    /// The token's `admin` claim: may read the cluster's stats (`switchboard.cluster`).
    package let isAdmin: Bool

    package init(user: String, isAdmin: Bool) {
        self.user = user
        self.isAdmin = isAdmin
    }
}
