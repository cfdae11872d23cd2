#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Routing
import Auth
package import Essentials
package import GRPCSupport
package import RedisBackplane

/// The node's settings, each declared once in `settings` and read through that one list
/// from a config file, `SWITCHBOARD_*` variables and `--flags`, in that order (the later
/// wins).
extension NodeConfiguration {
    package static let settings: [NodeSetting] = [
        .string("node-id", \.nodeID, help: "Node id, unique in the cluster; part of every connection id (default: the system host name, else node-1). A node refuses to start while another live node holds its id.") {
            $0.isEmpty || $0.contains("/") || $0.contains("\n") ? "must be non-empty and contain no '/' or newline" : nil
        },
        .string("host", \.host, help: "Address the client port and the Gateway API bind."),
        .integer("port", \.port, help: "Client port (WebSocket, /healthz, /readyz, /metrics unless --admin-port is set); 0 picks a free one.", in: 0...65535),
        .integer("grpc-port", \.grpcPort, help: "Port of the Gateway gRPC API backends push through; 0 picks a free one.", in: 0...65535),
        .optionalInteger("admin-port", \.adminPort, help: "Operator port for /metrics, /healthz and /readyz (plain HTTP); with it /metrics leaves the client port; 0 picks a free one.", atLeast: 0),
        .optional("admin-host", \.adminHost, help: "Address the admin port binds (default: --host)."),
        NodeSetting(
            key: "jwt-secret", help: "HS256 secret client tokens are signed with (required unless --jwks-file is set).",
            read: { configuration, text, _ in configuration.jwtSecret = text },
            show: { $0.jwtSecret.isEmpty ? nil : "(set)" },
            check: { configuration in
                let secret = configuration.jwtSecret
                if secret.isEmpty {
                    return configuration.jwksFile == nil && configuration.jwksURL == nil
                        ? "must be set (flag --jwt-secret or SWITCHBOARD_JWT_SECRET), or --jwks-file or --jwks-url" : nil
                }
                return secret.utf8.count < TokenAuthenticator.minimumSecretBytes ? TokenSecretError().description : SharedSecret.placeholderProblem(secret)
            }
        ),
    ] + securitySettings + [
        .string("push-secret", \.pushSecret, help: "Secret backends send as 'authorization: Bearer <secret>' (required).", secret: true) {
            $0.utf8.count < 16 ? "must be at least 16 bytes (flag --push-secret or SWITCHBOARD_PUSH_SECRET)" : SharedSecret.placeholderProblem($0)
        },
        .integer("max-frame-bytes", \.maxFrameBytes, help: "Largest client message in bytes; larger closes with 1009.", in: 128...Int.max),
        .integer("queue-messages", \.queueMessages, help: "Outbound frames a connection may have queued before it is closed as a slow consumer.", in: 1...Int.max),
        .integer("queue-bytes", \.queueBytes, help: "Outbound bytes a connection may have queued before it is closed as a slow consumer.", in: 1...Int.max),
        .seconds("ping-interval", \.pingInterval, help: "Seconds between pings; a client silent for that long after a ping is closed.", atLeast: .milliseconds(1)),
        .seconds("drain-window", \.drainWindow, help: "Seconds over which SIGTERM closes the clients (1012: reconnect elsewhere) before the node exits.", atLeast: .milliseconds(100)),
        .seconds("close-timeout", \.closeTimeout, help: "Seconds a client gets to answer a close frame before its socket is dropped.", atLeast: .milliseconds(1)),
        .integer("max-calls-per-connection", \.maxCallsPerConnection, help: "Backend calls one client may have in flight; more are answered busy.", in: 1...Int.max),
        .integer("max-backend-in-flight", \.maxBackendInFlight, help: "Calls in flight to one backend from this node; more are answered busy.", in: 1...Int.max),
        .integer("backend-failures-to-open", \.backendFailuresToOpen, help: "Failed calls in a row that open a backend's circuit (half of its last 32 failing does too); then its calls are answered unavailable at once.", in: 1...Int.max),
        .seconds("backend-open-seconds", \.backendOpenFor, help: "Seconds an open backend circuit refuses calls before one probe call goes through.", atLeast: .milliseconds(1)),
        .optionalInteger("max-connections", \.maxConnections, help: "Client connections held at most; more are refused with 503 (default: open-file limit - 256).", atLeast: 1),
        .integer("client-rate", \.clientRate, help: "Client frames per second one connection may send, sustained; more are refused rate_limited.", in: 1...Int.max),
        .integer("client-burst", \.clientBurst, help: "Client frames a connection may send at once above the rate; refusals past what the rate forgives, up to this many, close it (4029).", in: 1...Int.max),
        .integer("client-bytes-rate", \.clientBytesRate, help: "Client bytes per second one connection may send, sustained (burst: two seconds' worth).", in: 1...Int.max),
        .integer("max-connections-per-user", \.maxConnectionsPerUser, help: "Connections one user may hold on this node; more are refused with 429 before the upgrade.", in: 1...Int.max),
        .integer("user-connects-per-minute", \.userConnectsPerMinute, help: "Connects one user may make to this node a minute (sustained, and at once); more are refused with 429 before the upgrade.", in: 1...Int.max),
        .integer("presence-limit", \.presenceLimit, help: "Connections a presence answer lists at most, with the total count beside them.", in: 1...Int.max),
        .seconds("handshake-timeout", \.handshakeTimeout, help: "Seconds a new connection has to send its request and be upgraded; then it is dropped.", atLeast: .milliseconds(1)),
        .integer("max-pending-per-address", \.maxPendingPerAddress, help: "Connections one source address (IPv6: one /64) may have open before their upgrade; more are closed at accept.", in: 1...Int.max),
        NodeSetting(
            key: "redis-auth-networks",
            help: "Comma-separated CIDR ranges a Redis server that Redis itself names (a cluster's shard, a sentinel's primary) must be in to receive the password, unless under TLS or in a configured host's domain. Default: loopback and the private ranges.",
            read: { configuration, text, source throws(ConfigurationError) in
                configuration.redisAuthNetworks = text.isEmpty ? nil : try addressRanges(text, source: source)
            },
            show: { $0.redisAuthNetworks?.map(\.description).joined(separator: ",") },
            check: { _ in nil }
        ),
        NodeSetting(
            key: "trusted-proxies",
            help: "Comma-separated addresses or CIDR ranges of load balancers that send the PROXY protocol (v1 or v2, e.g. HAProxy's send-proxy-v2): their connections must begin with its header, and the client address it names is the one limits count. Empty: none.",
            read: { configuration, text, source throws(ConfigurationError) in
                configuration.trustedProxies = try addressRanges(text, source: source)
            },
            show: { $0.trustedProxies.isEmpty ? nil : $0.trustedProxies.map(\.description).joined(separator: ",") },
            check: { _ in nil }
        ),
        .seconds("memory-trim-interval", \.memoryTrimInterval, help: "Seconds between returning freed heap memory to the OS; 0 turns it off.", atLeast: .milliseconds(10), orZero: true),
        NodeSetting(
            key: "allowed-origins",
            help: "Comma-separated web origins (https://app.example.com) whose pages may connect, besides the node's own; * allows any. Other browsers' pages are refused 403 (cross-site WebSocket hijacking).",
            read: { configuration, text, _ in
                configuration.allowedOrigins = text.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
            },
            show: { $0.allowedOrigins.isEmpty ? nil : $0.allowedOrigins.joined(separator: ",") },
            check: { configuration in
                configuration.allowedOrigins.first { $0 != "*" && !($0.hasPrefix("http://") || $0.hasPrefix("https://")) }
                    .map { "'\($0)' is not an origin: scheme://host[:port], or *" }
            }
        ),
        .boolean("dev", \.dev, help: "true: serve the demo app at /demo, mint tokens for any user at /demo/token, show /dashboard to anyone. Never in production."),
        .boolean("demo", \.demo, help: "true: serve the demo app's page at /demo without minting tokens; the page takes one from its link (#token=…)."),
        .seconds("stats-interval", \.statsInterval, help: "Seconds between the node's stats snapshots (the dashboard's numbers, kept in Redis).", atLeast: .milliseconds(10)),
        NodeSetting(
            key: "durable-kinds", help: "Comma-separated push kinds kept in the receiver's inbox for resume (a Gateway API push may ask either way); empty: none.",
            read: { configuration, text, source throws(ConfigurationError) in
                let kinds = text.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
                configuration.inbox.durableKinds = Set(kinds)
            },
            show: { $0.inbox.durableKinds.sorted().joined(separator: ",") },
            check: { _ in nil }
        ),
        NodeSetting(
            key: "topic-namespaces",
            help: "Topic namespaces and their rules: name:option,option;name:… with subscribe=any|claim|backend|none and publish=any|claim|backend|none (any: every client; claim: the token's topics claim matches; backend: the --topic-authorizer allows it; none: only backends through the Gateway API; default claim), echo=on|off (the publisher gets its own message; default on), joins=on|off (subscribers get switchboard.join and switchboard.leave pushes; default off), presence=on|off (the cluster keeps who is subscribed, for presence questions; default off), history=N and history-ttl=S (each topic keeps its last N publishes for S seconds, default 86400, for subscribers coming back with a position; default none). A topic in no namespace is refused.",
            read: { configuration, text, source throws(ConfigurationError) in
                do {
                    configuration.topicNamespaces = try TopicNamespaces(parsing: text)
                } catch {
                    throw ConfigurationError(key: source, problem: "\(error)")
                }
            },
            show: { $0.topicNamespaces.isEmpty ? nil : $0.topicNamespaces.description },
            check: { _ in nil }
        ),
        .integer("topics-per-connection", \.topicsPerConnection, help: "Topics one connection may be subscribed to at once; more are refused limit_exceeded. Also the topics a backend may keep one user subscribed to (Gateway API Subscribe).", in: 1...100_000),
        NodeSetting(
            key: "topic-authorizer", help: "host:port of the topic authorizer's gRPC service (TopicAuthorizer), asked for namespaces with subscribe=backend or publish=backend; while it gives no answer, clients are refused unavailable.",
            read: { configuration, text, source throws(ConfigurationError) in
                configuration.topicAuthorizer = text.isEmpty ? nil : try endpoint(text, key: source)
            },
            show: { $0.topicAuthorizer?.description },
            check: { _ in nil }
        ),
        .seconds("topic-authorizer-timeout", \.topicAuthorizerTimeout, help: "Seconds the topic authorizer has to answer one question; past it the client is refused unavailable.", atLeast: .milliseconds(1)),
        .seconds("topic-authorization-ttl", \.topicAuthorizationTTL, help: "Seconds the topic authorizer's answer is reused for the same user, topic and action; 0 asks every time.", atLeast: .zero),
        .seconds("subscription-ttl", \.subscriptionTTL, help: "Seconds a user's server-side subscriptions (Gateway API Subscribe) are kept after the user's last connect or subscription.", atLeast: .seconds(1)),
        .integer("inbox-length", \.inbox.maxLength, help: "Durable pushes a user's inbox keeps; older ones are trimmed (a resume from before them is reported not recovered).", in: 1...1_000_000),
        .seconds("inbox-ttl", \.inbox.ttl, help: "Seconds a user's inbox lives after its latest durable push.", atLeast: .seconds(1)),
        NodeSetting(
            key: "redis", help: "redis://[[user]:password@]host:port[/db] of the cluster's Redis (rediss:// for TLS; user: an ACL user; docs/redis.md); a Redis Cluster: redis+cluster://host:port,host:port,… (its seeds; several comma-separated addresses mean a cluster too); unset runs the node alone.",
            read: { configuration, text, source throws(ConfigurationError) in
                configuration.redis = text.isEmpty ? nil : try redisEndpoint(text, key: source)
            },
            show: { $0.redis?.description },
            check: { _ in nil }
        ),
        NodeSetting(
            key: "redis-prefix", help: "Prefix of every Redis key and channel, so that clusters can share a Redis.",
            read: { configuration, text, _ in configuration.redisPrefix = text },
            show: { $0.redisPrefix },
            check: { configuration in
                // A brace in the prefix would be every key's hash tag: one slot for everything.
                configuration.redis?.isCluster == true && configuration.redisPrefix.contains(where: { $0 == "{" || $0 == "}" })
                    ? "must not contain '{' or '}' on a Redis Cluster (it would put every key in one slot)" : nil
            }
        ),
        NodeSetting(
            key: "redis-sentinels", help: "Comma-separated host:port of Redis Sentinels; with --redis-master-name the node asks them for the primary and follows failovers (--redis then gives only credentials, database, TLS).",
            read: { configuration, text, source throws(ConfigurationError) in
                configuration.redisSentinels = try text.split(separator: ",").map { part throws(ConfigurationError) in
                    guard let address = HostAndPort(part.trimmingSpaces, defaultPort: 26379) else {
                        throw ConfigurationError(key: source, problem: "'\(part)' is not host:port")
                    }
                    return address
                }
            },
            show: { $0.redisSentinels.isEmpty ? nil : $0.redisSentinels.map { "\($0.host):\($0.port)" }.joined(separator: ",") },
            check: { configuration in
                if configuration.redisSentinels.isEmpty != (configuration.redisMasterName == nil) {
                    return "needs --redis-master-name with it (and the other way round)"
                }
                // A cluster fails over by itself: sentinels watch only a single primary.
                return !configuration.redisSentinels.isEmpty && configuration.redis?.isCluster == true ? "cannot be used with a Redis Cluster --redis" : nil
            }
        ),
        .seconds("redis-timeout", \.redisTimeout, help: "Seconds Redis may take to answer: a slower connect is retried, and a command unanswered this long means Redis hangs, so the connection is dropped and the commands waiting on it fail (a send failed so may still have been delivered).", atLeast: .milliseconds(10)),
        .optional("redis-master-name", \.redisMasterName, help: "The name the sentinels know the primary by (sentinel monitor <name> …)."),
        .optional("redis-sentinel-username", \.redisSentinelUsername, help: "The ACL user to sign in to the sentinels as (with --redis-sentinel-password)."),
        NodeSetting(
            key: "redis-sentinel-password", help: "The sentinels' own password (their requirepass, or the ACL user's); unset: they are asked without. Sentinels are reached over TLS when --redis is rediss://.",
            read: { configuration, text, _ in configuration.redisSentinelPassword = text.isEmpty ? nil : text },
            show: { $0.redisSentinelPassword == nil ? nil : "(set)" },
            check: { $0.redisSentinelPassword != nil && $0.redisSentinels.isEmpty ? "needs --redis-sentinels" : nil }
        ),
        .optional("redis-ca-file", \.redisCAFile, help: "PEM certificate authorities to trust for a rediss:// Redis (default: the system's)."),
        .optional("redis-password-file", \.redisPasswordFile, help: "A file holding Redis' password (for the URL's user, else the default user), instead of one in --redis."),
        .optional("redis-password", \.redisPassword, help: "Redis' password (for the URL's user, else the default user), instead of one in --redis; --redis-password-file keeps it out of the environment."),
    ] + backendNames.map { name in
        NodeSetting(
            key: "\(name)-backend", help: "host:port of the \(name.prefix(1).uppercased() + name.dropFirst()) backend's gRPC service.",
            read: { configuration, text, source throws(ConfigurationError) in
                configuration.backends[name] = try endpoint(text, key: source)
            },
            show: { $0.backends[name]?.description },
            check: { _ in nil }
        )
    }

    /// TLS on each port and to backends, secrets and token checks (apart, so that the
    /// list type-checks in reasonable time).
    static let securitySettings: [NodeSetting] = [
        .optional("tls-cert-file", \.tlsCertFile, pairedWith: \NodeConfiguration.tlsKeyFile, "tls-key-file",
                  help: "PEM certificate chain of the client port; with --tls-key-file the port speaks only TLS (wss://). Re-read when it changes."),
        .optional("tls-key-file", \.tlsKeyFile, help: "PEM private key of the client port's certificate."),
        .seconds("tls-reload-interval", \.tlsReloadInterval, help: "Seconds between checks of the TLS files for a change; new connections get the new certificate, open ones keep theirs.", atLeast: .milliseconds(10)),
        .optional("gateway-tls-cert-file", \.gatewayTLSCertFile, pairedWith: \NodeConfiguration.gatewayTLSKeyFile, "gateway-tls-key-file",
                  help: "PEM certificate chain of the Gateway API; with --gateway-tls-key-file it speaks only gRPC over TLS. Re-read when it changes."),
        .optional("gateway-tls-key-file", \.gatewayTLSKeyFile, help: "PEM private key of the Gateway API's certificate."),
        .optional("gateway-client-ca-file", \.gatewayClientCAFile, needs: \NodeConfiguration.gatewayTLSCertFile, "--gateway-tls-cert-file",
                  help: "PEM authorities whose certificates backends must present to the Gateway API (mutual TLS); others are refused in the handshake."),
        .optional("backend-ca-file", \.backendCAFile, help: "PEM authorities to trust for backends: with it, calls to backends go over TLS."),
        .optional("backend-tls-cert-file", \.backendTLSCertFile, pairedWith: \NodeConfiguration.backendTLSKeyFile, "backend-tls-key-file",
                  help: "PEM certificate the node presents to backends that require mutual TLS (turns TLS to backends on). Re-read when it changes."),
        .optional("backend-tls-key-file", \.backendTLSKeyFile, help: "PEM private key of --backend-tls-cert-file."),
        NodeSetting(
            key: "backend-secret", help: "Secret sent to backends as 'authorization: Bearer <secret>' so they trust the caller identity only from a node (default: one derived from the push secret, which backends cannot work back from; `switchboard backends` derives the same).",
            read: { configuration, text, _ in configuration.backendSecret = text.isEmpty ? nil : text },
            show: { $0.backendSecret == nil ? nil : "(set)" },
            check: { configuration in
                guard let secret = configuration.backendSecret else { return nil }
                return secret.utf8.count < 16 ? "must be at least 16 bytes" : SharedSecret.placeholderProblem(secret)
            }
        ),
        .optional("jwks-file", \.jwksFile, help: "A JSON Web Key Set (public RS256, ES256 or EdDSA keys, each with a kid) client tokens may be signed with, as an identity provider publishes it."),
        NodeSetting(
            key: "jwks-url", help: "https URL of the identity provider's JSON Web Key Set (http only to a loopback host), fetched at start and every --jwks-refresh-interval; a fetch that fails keeps the last good key set.",
            read: { configuration, text, _ in configuration.jwksURL = text.isEmpty ? nil : text },
            show: { $0.jwksURL },
            check: { configuration in
                guard let url = configuration.jwksURL else { return nil }
                if configuration.jwksFile != nil { return "give --jwks-file or --jwks-url, not both" }
                return NodeConfiguration.jwksURLProblem(url)
            }
        ),
        .seconds("jwks-refresh-interval", \.jwksRefreshInterval, help: "Seconds between fetches of --jwks-url.", atLeast: .milliseconds(10)),
        .seconds("jwks-reload-interval", \.jwksReloadInterval, help: "Seconds between checks of the JWKS file for a change; a file that does not load keeps the last good key set.", atLeast: .milliseconds(10)),
        .identityClaim("jwt-issuer", \.jwtIssuer, help: "The iss client tokens must carry; required with a JWKS ('*': any issuer, which accepts tokens the provider issued to anyone). Unset without a JWKS: any."),
        .identityClaim("jwt-audience", \.jwtAudience, help: "A value the aud of client tokens must include; required with a JWKS ('*': any audience, which accepts tokens the provider issued for other apps). Unset without a JWKS: any."),
        .seconds("jwt-leeway", \.jwtLeeway, help: "Seconds of clock skew forgiven on a token's exp and nbf.", atLeast: .zero, orZero: true),
        .seconds("jwt-max-lifetime", \.jwtMaxLifetime, help: "The longest a token may live from iat to exp, in seconds; 0: no limit.", atLeast: .seconds(1), orZero: true),
    ]

    /// Comma-separated addresses or CIDR ranges.
    static func addressRanges(_ text: String, source: String) throws(ConfigurationError) -> [AddressRange] {
        var ranges: [AddressRange] = []
        for part in text.split(separator: ",") {
            let item = String(part.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
            guard let range = AddressRange(item) else {
                throw ConfigurationError(key: source, problem: "'\(item)' is not an address or CIDR range (10.0.0.0/8, 2001:db8::/32)")
            }
            ranges.append(range)
        }
        return ranges
    }

    /// A configuration from a config file's lines, the environment and flags, in that
    /// order of precedence (flags win); not yet validated.
    package static func resolve(
        file: [String: String] = [:], environment: [String: String], flags: [String: String] = [:],
        hostName: String? = SystemHostName.current
    ) throws(ConfigurationError) -> NodeConfiguration {
        var configuration = NodeConfiguration(nodeID: hostName ?? "node-1", jwtSecret: "", pushSecret: "")
        try settingList.read(into: &configuration, file: file, environment: environment, flags: flags)
        if !configuration.redisSentinels.isEmpty, let name = configuration.redisMasterName {
            configuration.redis = .sentinels(
                configuration.redisSentinels, masterName: name, username: configuration.redisSentinelUsername,
                password: configuration.redisSentinelPassword, base: configuration.redis
            )
        }
        if let networks = configuration.redisAuthNetworks { configuration.redis?.sendCredentials(within: networks) }
        if let path = configuration.redisPasswordFile {
            guard configuration.redis != nil else {
                throw ConfigurationError(key: "redis-password-file", problem: "needs --redis (the Redis to sign in to)")
            }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError(key: "redis-password-file", problem: "cannot read '\(path)'")
            }
            var password = Substring(text)
            while password.last == "\n" || password.last == "\r" { password = password.dropLast() }
            guard !password.isEmpty else { throw ConfigurationError(key: "redis-password-file", problem: "'\(path)' is empty") }
            configuration.redis?.signIn(password: String(password))
        }
        if let password = configuration.redisPassword {
            guard configuration.redis != nil else {
                throw ConfigurationError(key: "redis-password", problem: "needs --redis (the Redis to sign in to)")
            }
            guard configuration.redisPasswordFile == nil else {
                throw ConfigurationError(key: "redis-password", problem: "give either --redis-password or --redis-password-file, not both")
            }
            guard !password.isEmpty else { throw ConfigurationError(key: "redis-password", problem: "is empty") }
            configuration.redis?.signIn(password: password)
        }
        if let path = configuration.redisCAFile {
            guard configuration.redis?.usesTLS == true else {
                throw ConfigurationError(key: "redis-ca-file", problem: "needs a rediss:// --redis (TLS to Redis)")
            }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigurationError(key: "redis-ca-file", problem: "cannot read '\(path)'")
            }
            configuration.redis?.trust(caFile: path)
        }
        return configuration
    }

    /// The settings as one list: read, checked and shown in `switchboard node --help`.
    package static let settingList = SettingList(settings, command: "switchboard node", noun: "node setting")

    /// Every setting with its flag, variable, default and help: `switchboard node --help`.
    package static var settingsHelp: String {
        settingList.help(defaults: NodeConfiguration(nodeID: "", jwtSecret: "", pushSecret: ""))
    }

    /// Parses `redis://host:port`, naming the key when it cannot.
    package static func redisEndpoint(_ text: String, key: String) throws(ConfigurationError) -> BackplaneEndpoint {
        guard let endpoint = BackplaneEndpoint(url: text) else {
            throw ConfigurationError(key: key, problem: "is not \(BackplaneEndpoint.urlForm)")
        }
        return endpoint
    }

    /// Parses `host:port`, naming the key when it cannot.
    package static func endpoint(_ text: String, key: String) throws(ConfigurationError) -> GRPCEndpoint {
        guard let endpoint = GRPCEndpoint(text) else {
            throw ConfigurationError(key: key, problem: "'\(text)' is not host:port")
        }
        return endpoint
    }
}
