#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Auth
package import Essentials
package import GRPCSupport
package import RedisBackplane
package import Routing

/// Everything one gateway node needs to know to run.
///
/// Each setting is declared once, with its key, help and rule, in
/// `NodeConfiguration.settings`, and read from a config file, a `SWITCHBOARD_*` variable or
/// a flag of `switchboard node` (the flag wins). Defaults suit one node on a developer
/// machine.
package struct NodeConfiguration: Sendable {
    /// `--host`, `SWITCHBOARD_HOST`: address the WebSocket/HTTP listener binds.
    package var host: String = "127.0.0.1"
    /// `--port`, `SWITCHBOARD_PORT`: its port; 0 picks a free one.
    package var port: Int = 8080
    /// `--node-id`, `SWITCHBOARD_NODE_ID`: unique in the cluster; part of every connection id.
    package var nodeID: String
    /// `--jwt-secret`, `SWITCHBOARD_JWT_SECRET`: HS256 secret that client tokens are signed with.
    package var jwtSecret: String
    /// `--max-frame-bytes`, `SWITCHBOARD_MAX_FRAME_BYTES`: largest client message; larger closes with 1009.
    package var maxFrameBytes: Int = 64 * 1024
    /// `--queue-messages`, `SWITCHBOARD_QUEUE_MESSAGES`: outbound frames a connection may have waiting.
    package var queueMessages: Int = 1024
    /// `--queue-bytes`, `SWITCHBOARD_QUEUE_BYTES`: outbound bytes a connection may have waiting.
    package var queueBytes: Int = 4 * 1024 * 1024
    /// `--ping-interval`, `SWITCHBOARD_PING_INTERVAL` (seconds): a connection that has not answered
    /// a ping within this long is closed as idle.
    package var pingInterval: Duration = .seconds(30)
    /// `--drain-window`, `SWITCHBOARD_DRAIN_WINDOW` (seconds): on SIGTERM the node closes its
    /// clients a few at a time over the first three quarters of this window, so that they do
    /// not all reconnect at the same moment, and exits before it ends.
    package var drainWindow: Duration = .seconds(10)
    /// `--close-timeout`, `SWITCHBOARD_CLOSE_TIMEOUT` (seconds): how long a client gets to answer a
    /// close frame the node sent before its socket is dropped.
    package var closeTimeout: Duration = .seconds(2)
    /// `--grpc-port`, `SWITCHBOARD_GRPC_PORT`: port of the Gateway API that backends push through
    /// (on `host`); 0 picks a free one.
    package var grpcPort: Int = 8081
    /// `--admin-port`: with it, `/metrics` (and `/healthz`, `/readyz`) are served on this
    /// port, bound to `admin-host`, and `/metrics` no longer on the public client port; 0
    /// picks a free one.
    package var adminPort: Int?
    /// `--admin-host` (default: `host`): the address the admin port binds, e.g. a pod IP
    /// only Prometheus reaches, or 127.0.0.1.
    package var adminHost: String?
    /// `--push-secret`, `SWITCHBOARD_PUSH_SECRET`: what backends send as `authorization: Bearer …`.
    package var pushSecret: String
    /// `--location-backend`, `--chat-backend`, `--notification-backend` (`SWITCHBOARD_LOCATION_BACKEND`, …):
    /// `host:port` of each backend's gRPC service. A route whose backend is absent answers `unavailable`.
    package var backends: [String: GRPCEndpoint] = [:]
    /// `--max-calls-per-connection`, `SWITCHBOARD_MAX_CALLS_PER_CONNECTION`: backend calls one client may
    /// have in flight; more are answered `busy`.
    package var maxCallsPerConnection: Int = 32
    /// `--max-backend-in-flight`, `SWITCHBOARD_MAX_BACKEND_IN_FLIGHT`: calls in flight to one backend from
    /// this node; more are answered `busy`.
    package var maxBackendInFlight: Int = 1000
    /// `--backend-failures-to-open`, `SWITCHBOARD_BACKEND_FAILURES_TO_OPEN`: failed calls in a row
    /// (unavailable, timeout, internal) that open a backend's circuit; half of its last 32
    /// calls failing opens it too. While open, its calls are answered `unavailable` at once.
    package var backendFailuresToOpen: Int = 5
    /// `--backend-open-seconds`, `SWITCHBOARD_BACKEND_OPEN_SECONDS`: how long an open circuit
    /// refuses calls before one probe call is let through.
    package var backendOpenFor: Duration = .seconds(5)
    /// `--max-connections`, `SWITCHBOARD_MAX_CONNECTIONS`: client connections this node holds at most;
    /// past it, upgrades are refused with 503 `busy` so clients try another node. Unset: the
    /// open-file limit (raised to the hard limit at start) less `OpenFileLimit.reserved`.
    package var maxConnections: Int?
    /// `--client-rate`, `SWITCHBOARD_CLIENT_RATE`: client frames (sends, calls, presence, pings)
    /// one connection may send per second, sustained; past it they are refused `rate_limited`.
    package var clientRate: Int = 200
    /// `--client-burst`, `SWITCHBOARD_CLIENT_BURST`: frames a connection may send at once above
    /// the rate; refusals are forgiven at the rate up to this many, past that the
    /// connection is closed with 4029.
    package var clientBurst: Int = 400
    /// `--client-bytes-rate`, `SWITCHBOARD_CLIENT_BYTES_RATE`: client bytes per second per
    /// connection, sustained (the burst is two seconds' worth, at least two maximal frames).
    package var clientBytesRate: Int = 1024 * 1024
    /// `--max-connections-per-user`, `SWITCHBOARD_MAX_CONNECTIONS_PER_USER`: connections one user
    /// may hold on this node; more are refused before the upgrade (429 `too_many_connections`).
    package var maxConnectionsPerUser: Int = 64
    /// `--user-connects-per-minute`, `SWITCHBOARD_USER_CONNECTS_PER_MINUTE`: connects one user may
    /// make to this node a minute, sustained, and at once; more are refused before the upgrade
    /// (429 `too_many_connects`): a client reconnecting in a loop (each connect reads the inbox)
    /// cannot load Redis for everyone.
    package var userConnectsPerMinute: Int = 60
    /// `--presence-limit`, `SWITCHBOARD_PRESENCE_LIMIT`: connections a `presence` answer lists at
    /// most (with the total count beside them).
    package var presenceLimit: Int = 100
    /// The topic namespaces and their rules; a topic in none is refused.
    package var topicNamespaces = TopicNamespaces()
    /// Topics one connection may be subscribed to at once (and topics a backend may keep
    /// one user subscribed to).
    package var topicsPerConnection: Int = 128
    /// How long a user's server-side subscriptions are kept after their last connect.
    package var subscriptionTTL: Duration = .seconds(7 * 86_400)
    /// `--topic-authorizer`: `host:port` of the backend that decides for namespaces with
    /// `subscribe=backend` or `publish=backend` (kept in `backends` under its own name).
    package var topicAuthorizer: GRPCEndpoint? {
        get { backends[Self.topicAuthorizerName] }
        set { backends[Self.topicAuthorizerName] = newValue }
    }
    /// The authorizer's name among the backends (metrics, logs).
    package static let topicAuthorizerName = "topic-authorizer"
    /// Deadline of one question to the topic authorizer.
    package var topicAuthorizerTimeout: Duration = .seconds(1)
    /// How long the authorizer's answer (allowed or denied) is reused for the same user,
    /// topic and action; 0 asks every time.
    package var topicAuthorizationTTL: Duration = .seconds(10)
    /// `--handshake-timeout`, `SWITCHBOARD_HANDSHAKE_TIMEOUT` (seconds): how long a new connection has
    /// to send its request and be upgraded (and a kept-alive HTTP connection between requests).
    package var handshakeTimeout: Duration = .seconds(10)
    /// `--max-pending-per-address`, `SWITCHBOARD_MAX_PENDING_PER_ADDRESS`: connections one source
    /// address may have open and not yet upgraded; more are closed at accept. Behind a proxy
    /// that hides client addresses, raise it to the proxy's share.
    package var maxPendingPerAddress: Int = 256
    /// `--trusted-proxies`: load balancers that send the PROXY protocol (v1 or v2). Their
    /// connections must begin with its header, and the client address it names is the one
    /// the per-address limits count (IPv6 per /64).
    package var trustedProxies: [AddressRange] = []
    /// `--redis-auth-networks`: where a Redis server that Redis named may be to receive the
    /// password (nil: loopback and the private ranges).
    package var redisAuthNetworks: [AddressRange]?
    /// `--redis-sentinel-username`, `--redis-sentinel-password`: what the sentinels ask for.
    package var redisSentinelUsername: String?
    package var redisSentinelPassword: String?

    /// `--redis`, `SWITCHBOARD_REDIS` (`redis://host:port`): join the cluster that shares this Redis.
    /// Unset: the node runs alone, with presence and relay in process.
    package var redis: BackplaneEndpoint?
    /// `--redis-prefix`, `SWITCHBOARD_REDIS_PREFIX`: prefix of every key and channel, so that
    /// several clusters can share one Redis.
    package var redisPrefix: String = "sb:"
    /// `--redis-password-file`: a file whose content (without a final newline) is Redis'
    /// password, instead of one in the URL (e.g. a mounted Kubernetes secret).
    package var redisPasswordFile: String?
    /// `--redis-password`, `SWITCHBOARD_REDIS_PASSWORD`: Redis' password, where a file is
    /// not at hand (docker-compose); not with `redisPasswordFile`.
    package var redisPassword: String?
    /// `--redis-ca-file`: the certificate authorities to trust for a `rediss://` Redis.
    package var redisCAFile: String?
    /// `--redis-sentinels` (`host:port,…`) and `--redis-master-name`: Redis behind
    /// Sentinel; each connection asks them for the primary, so a failover is followed.
    /// `redis`, when also set, gives only the credentials, database and TLS.
    package var redisSentinels: [HostAndPort] = []
    package var redisMasterName: String?
    /// `--redis-timeout`, `SWITCHBOARD_REDIS_TIMEOUT` (seconds): how long Redis may take to
    /// answer. A connect (TLS and sign-in included) slower than this is retried after a
    /// backoff; a command unanswered for this long means Redis hangs, so the connection is
    /// dropped and what waited fails. A send failed so may still have been delivered:
    /// Redis had it, only the answer was late.
    package var redisTimeout: Duration = .seconds(2)
    /// How often the node renews its lease and sweeps dead nodes' presence.
    package var leaseInterval: Duration = .seconds(1)
    /// How long a lease lives without renewal: a crashed node's presence is gone within
    /// `leaseTTL` + `leaseInterval`. A live node whose heartbeat comes later than this is
    /// swept too (and writes its presence back at that heartbeat): at 2 s, a node starved
    /// of CPU (two busy cores, a debug build) lapsed every few seconds and its users flickered
    /// out of presence; 5 s rides out such stalls.
    package var leaseTTL: Duration = .seconds(5)

    /// `--memory-trim-interval`, `SWITCHBOARD_MEMORY_TRIM_INTERVAL` (seconds; 0 turns it off): how
    /// often freed heap memory is returned to the OS (see `MemoryTrimService`).
    package var memoryTrimInterval: Duration = .seconds(10)

    /// `--dev`, `SWITCHBOARD_DEV`: serve the demo app at `/demo`, mint tokens for any user
    /// name at `/demo/token`, and show the dashboard to every client. For trying
    /// Switchboard on a laptop; never on by default, never in production.
    package var dev = false
    /// `--demo`, `SWITCHBOARD_DEMO`: serve the demo app's page at `/demo` without `dev`'s
    /// token minting: the page takes a token from its link (`#token=`). For showing the
    /// demo from a machine others reach (`switchboard cluster --host`).
    package var demo = false

    /// `--allowed-origins`: web origins (`https://app.example.com`) whose pages may open a
    /// socket, besides the node's own; `*` allows any. Requests without an `Origin`
    /// header (apps, servers) are not browsers' and always pass. `--dev` allows any.
    package var allowedOrigins: [String] = []

    /// `--jwks-file`: a JSON Web Key Set of public keys (RS256, ES256, EdDSA, each with a
    /// `kid`) that client tokens may be signed with, as identity providers publish them;
    /// with it, `jwt-secret` is optional.
    package var jwksFile: String?
    /// `--jwks-reload-interval`: how often the JWKS file is checked for a change (keys
    /// added or retired by the identity provider take effect without a restart).
    package var jwksReloadInterval: Duration = .seconds(10)
    /// `--jwks-url`: where the identity provider publishes its JWKS (`https://…/.well-known/jwks.json`),
    /// fetched at start and every `jwksRefreshInterval`; a fetch that fails keeps the last good set.
    package var jwksURL: String?
    package var jwksRefreshInterval: Duration = .seconds(300)
    /// `--jwt-issuer`, `--jwt-audience`: what a token's `iss` must be and its `aud` must include.
    package var jwtIssuer: String?
    package var jwtAudience: String?
    /// `--jwt-leeway`: clock skew forgiven on `exp` and `nbf`.
    package var jwtLeeway: Duration = .seconds(5)
    /// `--jwt-max-lifetime` (0: none): the longest a token may live from `iat` to `exp`.
    package var jwtMaxLifetime: Duration = .zero

    /// `--tls-cert-file`, `--tls-key-file`: PEM files; with both, the client port speaks
    /// only TLS (wss://, https:// for health and metrics). Re-read when they change.
    package var tlsCertFile: String?
    package var tlsKeyFile: String?
    /// How often the certificate files are checked for a change (cert-manager rotates them).
    package var tlsReloadInterval: Duration = .seconds(10)

    /// `--gateway-tls-cert-file`, `--gateway-tls-key-file`: with both, the Gateway API
    /// speaks only gRPC over TLS; `--gateway-client-ca-file` then makes it mutual: a backend
    /// without a certificate from those authorities is refused in the handshake.
    package var gatewayTLSCertFile: String?
    package var gatewayTLSKeyFile: String?
    package var gatewayClientCAFile: String?
    /// `--backend-ca-file`: calls to backends go over TLS, trusting these authorities;
    /// `--backend-tls-cert-file`, `--backend-tls-key-file`: the node's certificate for
    /// backends that require mutual TLS (TLS with the system's authorities without a CA file).
    package var backendCAFile: String?
    package var backendTLSCertFile: String?
    package var backendTLSKeyFile: String?
    /// `--backend-secret`: sent with every backend call as `authorization: Bearer`, so that
    /// backends take a caller's identity only from a node. Unset: one derived from the push
    /// secret, never the push secret itself (a backend holding that could push to anyone).
    package var backendSecret: String?

    /// The secret backend calls carry.
    package var effectiveBackendSecret: String {
        backendSecret ?? SharedSecret.derived(from: pushSecret, purpose: .backendCalls)
    }

    /// The Gateway API's TLS, when it has a certificate.
    package var gatewayTLS: GRPCServerTLS? {
        guard let gatewayTLSCertFile, let gatewayTLSKeyFile else { return nil }
        return GRPCServerTLS(certFile: gatewayTLSCertFile, keyFile: gatewayTLSKeyFile, clientCAFile: gatewayClientCAFile, reloadInterval: tlsReloadInterval)
    }

    /// TLS to backends, when any of its files is set.
    package var backendTLS: GRPCClientTLS? {
        guard backendCAFile != nil || backendTLSCertFile != nil else { return nil }
        return GRPCClientTLS(caFile: backendCAFile, certFile: backendTLSCertFile, keyFile: backendTLSKeyFile, reloadInterval: tlsReloadInterval)
    }

    /// How often the node publishes its stats snapshot (the dashboard's numbers).
    package var statsInterval: Duration = .seconds(1)

    /// `--durable-kinds`, `--inbox-length`, `--inbox-ttl`: which pushes to a user are kept
    /// in the user's inbox for resume, how many, for how long (docs/protocol.md § Resume).
    package var inbox = InboxPolicy()

    package init(nodeID: String, jwtSecret: String, pushSecret: String) {
        self.nodeID = nodeID
        self.jwtSecret = jwtSecret
        self.pushSecret = pushSecret
    }

    /// The byte burst that goes with `clientBytesRate`.
    var clientByteBurst: Int { max(2 * clientBytesRate, 2 * maxFrameBytes) }

    /// The backends routes may name.
    package static let backendNames = ["location", "chat", "notification"]

    /// Refuses settings that would make the node misbehave, naming the key: each
    /// setting's own rule (`settings`), then the rules between settings.
    package func validate() throws(ConfigurationError) {
        try Self.settingList.check(self)
        guard queueBytes >= maxFrameBytes else {
            throw ConfigurationError(key: "queue-bytes", problem: "must be at least max-frame-bytes (\(maxFrameBytes))")
        }
        if dev { try checkDevIsLocal() }
        if topicNamespaces.asksBackend, topicAuthorizer == nil {
            throw ConfigurationError(key: "topic-namespaces", problem: "a namespace leaves decisions to a backend (subscribe=backend or publish=backend): set --topic-authorizer host:port")
        }
    }

    /// `dev` mints a token for any user at /demo/token: only where nobody else can reach it
    /// (a loopback host), and never beside production identity (TLS, a JWKS).
    private func checkDevIsLocal() throws(ConfigurationError) {
        guard Self.isLoopback(host) else {
            throw ConfigurationError(
                key: "dev", problem: "serves tokens for any user at /demo/token, so it listens only on a loopback host; host is '\(host)'"
            )
        }
        if tlsCertFile != nil || jwksFile != nil || jwksURL != nil {
            throw ConfigurationError(key: "dev", problem: "is for local development: not with a TLS certificate or a JWKS (production identity)")
        }
    }

    /// Why a `jwks-url` is refused: keys fetched over plain HTTP can be swapped on the way,
    /// so only https, or http to this machine (a provider's sidecar, tests).
    static func jwksURLProblem(_ url: String) -> String? {
        guard let parts = URLComponents(string: url), let host = parts.host, parts.scheme == "https" || parts.scheme == "http" else {
            return "'\(url)' is not an https URL"
        }
        guard parts.scheme == "http" else { return nil }
        return isLoopback(host) && parts.user == nil ? nil : "'\(url)' is plain http: key sets are fetched over https (http only from a loopback host)"
    }

    /// 127.0.0.0/8, ::1 or localhost.
    package static func isLoopback(_ host: String) -> Bool {
        guard host != "localhost" else { return true }
        guard let address = IPAddress(host) else { return false }
        return loopback.contains { $0.contains(address) }
    }

    private static let loopback = ["127.0.0.0/8", "::1/128"].compactMap(AddressRange.init)
}
