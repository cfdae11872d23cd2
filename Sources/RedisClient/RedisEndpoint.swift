package import Essentials

/// Where Redis listens and how to sign in: parsed from
/// `redis://[[user]:password@]host[:port][/db]` (or `host:port`). A user name signs in as
/// that ACL user; a password alone signs in as the default user (`requirepass`). Several
/// comma-separated addresses, or `redis+cluster://` (`rediss+cluster://`), name the seeds
/// of a Redis Cluster.
package struct RedisEndpoint: Hashable, Sendable, CustomStringConvertible {
    package let host: String
    package let port: Int
    package var username: String?
    package var password: String?
    /// The logical database (SELECT); pub/sub channels are shared by every database.
    package var database: Int
    /// `rediss://`: TLS to Redis.
    package var tls: Bool
    /// PEM file of the certificate authorities to trust for Redis' certificate (nil: the
    /// system's); not part of the URL (`--redis-ca-file`).
    package var caFile: String?
    /// Set: `host` and `port` are not used; each connection asks these sentinels for the
    /// primary (`--redis-sentinels`, `--redis-master-name`).
    package var sentinels: RedisSentinels?
    /// Set: a Redis Cluster, and where to ask for its topology first (`host`/`port` is
    /// the first of them).
    package var clusterSeeds: [HostAndPort]?
    /// How long a command connection waits for a reply before it takes Redis for hung and
    /// reconnects, failing what waited (`--redis-timeout`); not part of the URL.
    package var commandTimeout: Duration = .seconds(2)
    /// How long a new connection may take to connect, TLS and sign-in included.
    package var connectTimeout: Duration = .seconds(1)
    /// Where credentials may go when Redis itself names the server (a cluster's shard in
    /// CLUSTER SLOTS or a redirect, the primary a sentinel names): addresses in these
    /// ranges (`--redis-auth-networks`; the private ones by default), names in a
    /// configured host's domain, anything under TLS (its certificate is checked). A spoofed
    /// answer pointing elsewhere gets no password.
    package var authNetworks: [AddressRange] = AddressRange.privateNetworks
    /// Set on an endpoint whose address Redis named rather than the configuration: who
    /// named it, for the refusal.
    package var namedBy: String?
    /// The host names the configuration gave (URL, seeds, sentinels), whose domains
    /// servers named by Redis may be in.
    package var configuredHosts: [String] = []

    package init(
        host: String, port: Int, username: String? = nil, password: String? = nil, database: Int = 0, tls: Bool = false, caFile: String? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.caFile = caFile
        configuredHosts = [host]
    }

    /// Nil when `url` is not one of the shapes above (the reason is not needed by callers,
    /// which name the setting and show the expected shape).
    package init?(_ url: String) {
        var rest = Substring(url)
        var tls = false
        var cluster = false
        for (scheme, secure, isCluster) in [("redis://", false, false), ("rediss://", true, false), ("redis+cluster://", false, true), ("rediss+cluster://", true, true)]
        where rest.hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
            (tls, cluster) = (secure, isCluster)
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let colon = credentials.firstIndex(of: ":")
            let user = credentials[..<(colon ?? credentials.endIndex)]
            if !user.isEmpty {
                guard let decoded = Self.percentDecoded(user) else { return nil }
                username = decoded
            }
            if let colon {
                guard let decoded = Self.percentDecoded(credentials[credentials.index(after: colon)...]) else { return nil }
                password = decoded
            }
            guard username != nil || password != nil else { return nil }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else { return nil }
                database = number
            }
            rest = rest[..<slash]
        }
        var addresses: [HostAndPort] = []
        for part in rest.split(separator: ",", omittingEmptySubsequences: false) {
            guard let address = HostAndPort(part, defaultPort: 6379) else { return nil }
            addresses.append(address)
        }
        // A cluster has only database 0.
        guard let first = addresses.first, !((cluster || addresses.count > 1) && database != 0) else { return nil }
        self.init(host: first.host, port: first.port, username: username, password: password, database: database, tls: tls)
        if cluster || addresses.count > 1 { clusterSeeds = addresses }
        configuredHosts = addresses.map(\.host)
    }

    /// The same credentials and TLS at one address (a cluster's node): named by the
    /// cluster unless it is one of the seeds.
    package func at(_ address: HostAndPort) -> RedisEndpoint {
        var endpoint = RedisEndpoint(
            host: address.host, port: address.port, username: username, password: password, database: database, tls: tls, caFile: caFile
        )
        endpoint.commandTimeout = commandTimeout
        endpoint.connectTimeout = connectTimeout
        endpoint.authNetworks = authNetworks
        endpoint.configuredHosts = configuredHosts
        let isSeed = (clusterSeeds ?? [HostAndPort(host: host, port: port)]).contains(address)
        endpoint.namedBy = isSeed ? namedBy : "the Redis Cluster"
        return endpoint
    }

    /// Why credentials must not go to `server` (named by `namer`), or nil when they may.
    package func credentialProblem(sendingTo server: String, namedBy namer: String?) -> String? {
        guard let namer, password != nil, !tls else { return nil }
        if let address = IPAddress(server) {
            if authNetworks.contains(where: { $0.contains(address) }) { return nil }
        } else if configuredHosts.contains(where: { Self.sameDomain(server, $0) }) {
            return nil
        }
        return "refusing to send Redis credentials to \(server), which \(namer) named: it is outside --redis-auth-networks "
            + "(\(authNetworks.map(\.description).joined(separator: ","))) and the configured hosts' domains; use TLS (rediss://) or widen the setting"
    }

    /// `name` is `configured`, or in its domain (redis-1.redis beside redis-0.redis).
    private static func sameDomain(_ name: String, _ configured: String) -> Bool {
        guard IPAddress(configured) == nil else { return false }
        if name == configured { return true }
        guard let dot = configured.firstIndex(of: ".") else { return false }
        return name.hasSuffix(configured[dot...])
    }

    package var isCluster: Bool { clusterSeeds != nil }

    /// Never shows the password.
    package var description: String {
        if let sentinels {
            let user = username.map { " as \($0)" } ?? (password != nil ? " with a password" : "")
            return "\(sentinels)\(user)\(database == 0 ? "" : ", db \(database)")\(tls ? ", TLS" : "")"
        }
        let credentials = switch (username, password) {
        case (let user?, _?): "\(user):***@"
        case (let user?, nil): "\(user)@"
        case (nil, _?): ":***@"
        case (nil, nil): ""
        }
        if let clusterSeeds {
            return "\(tls ? "rediss" : "redis")+cluster://\(credentials)\(clusterSeeds.map { "\($0.host):\($0.port)" }.joined(separator: ","))"
        }
        return "\(tls ? "rediss" : "redis")://\(credentials)\(host):\(port)\(database == 0 ? "" : "/\(database)")"
    }

    /// What a new connection sends before anything else: AUTH, then SELECT; behind
    /// sentinels also ROLE, so that a server the sentinels still named as primary while it
    /// was being demoted is not used (`isPrimary`).
    package var handshake: [[String]] {
        var commands: [[String]] = []
        if let password { commands.append(["AUTH"] + (username.map { [$0] } ?? []) + [password]) }
        if database != 0 { commands.append(["SELECT", String(database)]) }
        if sentinels != nil { commands.append(["ROLE"]) }
        return commands
    }

    /// A `ROLE` reply that says primary.
    package static func isPrimary(_ reply: RedisReply) -> Bool {
        reply.array?.first?.string == "master"
    }

    /// `%XX` escapes decoded (a password may hold `@`, `:` or `/`); nil when malformed.
    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        while index < text.utf8.endIndex {
            let byte = text.utf8[index]
            if byte == UInt8(ascii: "%") {
                let first = text.utf8.index(after: index)
                guard first < text.utf8.endIndex else { return nil }
                let second = text.utf8.index(after: first)
                guard second < text.utf8.endIndex,
                      let value = UInt8(String(decoding: [text.utf8[first], text.utf8[second]], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
                index = text.utf8.index(after: second)
            } else {
                bytes.append(byte)
                index = text.utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
