public import NIOSSL

/// How a `SwitchboardClient` connects and reconnects.
public struct SwitchboardClientConfiguration: Sendable {
    /// Node URLs (`ws://host:8080/ws`, `wss://…`), tried in turn, or one load-balanced URL.
    /// A `wss://` URL names its host by name: TLS asks for the server's certificate by name
    /// (SNI), never by IP address.
    public var urls: [String]
    /// Where tokens come from; a provider is asked again after an authentication refusal.
    public var token: TokenProvider
    /// How long a call waits for its answer (including for a connection).
    public var callTimeout: Duration = .seconds(10)
    /// How long a new socket may take to be welcomed.
    public var connectTimeout: Duration = .seconds(10)
    /// Interval of the protocol pings that find a connection that died silently; nil turns them off.
    public var heartbeatInterval: Duration? = .seconds(25)
    /// Delays between attempts after a failure.
    public var backoff = Backoff()
    /// The inbox position the first connect resumes after (e.g. one saved from
    /// `client.position` in an earlier run; `.beginning` for everything stored). Later
    /// reconnects resume from the last position seen.
    public var position: InboxPosition?
    /// TLS for `wss://` URLs: the roots to trust (a private CA), a client certificate for
    /// mutual TLS, the minimum version. Nil: the system's trust roots, no client certificate.
    public var tls: TLSConfiguration?
    /// How many pushes may wait for the application to read `pushes`. Past it newer pushes
    /// are dropped, counted in `droppedPushes`, and a resync is announced (`resyncs`), so
    /// memory stays bounded when nobody reads.
    public var pushBufferLimit = 10_000
    /// Extra headers of the WebSocket handshake (and of the request that asks why one was
    /// refused): what a proxy in between wants (its authentication, routing hints).
    public var headers: [String: String] = [:]

    public init(urls: [String], token: TokenProvider) {
        precondition(!urls.isEmpty, "SwitchboardClient needs at least one node URL")
        self.urls = urls
        self.token = token
    }
}
