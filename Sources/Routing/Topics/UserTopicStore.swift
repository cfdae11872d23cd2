/// The topics backends subscribed users to (the Gateway API's Subscribe), kept for each
/// user's next connects: in Redis for a cluster, in process for a node alone. A user's
/// list lives `ttl` after their last connect or subscription.
package protocol UserTopicStore: Sendable {
    /// Adds `topic` to `user`'s list unless it holds `limit` topics already; whether it is
    /// in the list now (false: full).
    func add(_ topic: String, for user: String, limit: Int) async throws -> Bool
    func remove(_ topic: String, for user: String) async throws
    /// `user`'s list (a connect: it lives another ttl).
    func topics(of user: String) async throws -> [String]
}
