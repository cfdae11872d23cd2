package import Essentials

/// Redis Sentinel: the sentinels to ask and the name of the master they watch. With it, a
/// connection asks the sentinels where the primary is each time it connects, so a node
/// follows a failover by reconnecting (docs/redis.md § Sentinel).
package struct RedisSentinels: Hashable, Sendable, CustomStringConvertible {
    package let addresses: [HostAndPort]
    package let masterName: String
    /// The sentinels' own credentials (their `requirepass`, or an ACL user), sent before
    /// asking; nil: they are asked without (`--redis-sentinel-password`, `--redis-sentinel-username`).
    package var username: String?
    package var password: String?

    /// What a sentinel connection sends before its question.
    var handshake: [[String]] {
        guard let password else { return [] }
        return [["AUTH"] + (username.map { [$0] } ?? []) + [password]]
    }

    package init(addresses: [HostAndPort], masterName: String) {
        precondition(!addresses.isEmpty, "at least one sentinel")
        self.addresses = addresses
        self.masterName = masterName
    }

    package var description: String {
        "sentinel master '\(masterName)' via \(addresses.map { "\($0.host):\($0.port)" }.joined(separator: ","))"
            + (password == nil ? "" : " (signed in)")
    }
}
