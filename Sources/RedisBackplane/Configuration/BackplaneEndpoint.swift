package import Essentials
package import RedisClient

/// Where a node finds the cluster's state, as its settings give it: a Redis URL, or the
/// sentinels that name the primary, with credentials and what to trust. The node's
/// configuration holds one of these and names no Redis type; the rules of Redis URLs,
/// sentinels and credentials stay here, beside the code that connects.
package struct BackplaneEndpoint: Sendable, CustomStringConvertible {
    /// The connection settings it stands for.
    package var redis: RedisEndpoint

    package init(redis: RedisEndpoint) {
        self.redis = redis
    }

    /// A `--redis` URL; nil when it is not of the form `urlForm` describes.
    package init?(url: String) {
        guard let redis = RedisEndpoint(url) else { return nil }
        self.redis = redis
    }

    /// What a `--redis` URL looks like, for an error that names it.
    package static let urlForm =
        "redis://[[user]:password@]host:port[/db] nor redis+cluster://[[user]:password@]host:port,host:port,… (a password with '@', ':' or '/' is percent-encoded; a cluster has only database 0)"

    /// The primary that `sentinels` know as `masterName`, followed through failovers;
    /// `base` (a `--redis` given as well) supplies only credentials, database and TLS.
    package static func sentinels(
        _ sentinels: [HostAndPort], masterName: String, username: String?, password: String?, base: BackplaneEndpoint?
    ) -> BackplaneEndpoint {
        var redis = base?.redis ?? RedisEndpoint(host: masterName, port: 6379)
        redis.sentinels = RedisSentinels(addresses: sentinels, masterName: masterName)
        redis.sentinels?.username = username
        redis.sentinels?.password = password
        redis.configuredHosts += sentinels.map(\.host)
        return BackplaneEndpoint(redis: redis)
    }

    /// A Redis Cluster (keys hash-tagged, no sentinels, database 0 only).
    package var isCluster: Bool { redis.isCluster }

    /// TLS to Redis (`rediss://`).
    package var usesTLS: Bool { redis.tls }

    /// The password to sign in with, replacing one in the URL.
    package mutating func signIn(password: String) {
        redis.password = password
    }

    /// PEM certificate authorities to trust for TLS, instead of the system's.
    package mutating func trust(caFile: String) {
        redis.caFile = caFile
    }

    /// Where a server that Redis itself names (a replica, a cluster node) may be to receive
    /// the password without TLS.
    package mutating func sendCredentials(within networks: [AddressRange]) {
        redis.authNetworks = networks
    }

    /// The URL with its password hidden.
    package var description: String { redis.description }
}
