import GRPCCore
import Logging
import Synchronization
import SwitchboardProtocol

/// Asks the authorizer backend (`TopicAuthorizer` in Protos/) whether a user may subscribe
/// to, or publish on, a topic of a namespace that leaves it to a backend. Each call has a
/// deadline and goes through the backend pool (its in-flight cap and circuit breaker); an
/// answer is cached per user, topic and action. When no answer comes — the backend is
/// down, slow, failing or not configured — the client is refused `unavailable`: never allowed.
final class TopicAuthorizer: Sendable {
    /// The authorizer's name in the backend pool, metrics and logs.
    static let backendName = "topic-authorizer"

    enum Action: Hashable, Sendable {
        case subscribe, publish
    }

    enum Decision: Equatable, Sendable {
        case allowed
        /// With the backend's reason, shown to the client.
        case denied(String)
    }

    enum Outcome: Equatable, Sendable {
        case decided(Decision)
        /// No answer: why, for the client, and when to retry if known.
        case unavailable(String, retryAfter: Duration?)
    }

    private let backends: BackendPool
    private let timeout: Duration
    private let cache: Mutex<TopicAuthorizationCache>
    /// Time for the cache: a clock's offset, injected by tests.
    private let now: @Sendable () -> Duration
    private let metrics: NodeMetrics
    private let logger: Logger

    init(
        backends: BackendPool, timeout: Duration, ttl: Duration, metrics: NodeMetrics, logger: Logger,
        now: @escaping @Sendable () -> Duration = TopicAuthorizer.monotonicNow
    ) {
        self.backends = backends
        self.timeout = timeout
        cache = Mutex(TopicAuthorizationCache(ttl: ttl))
        self.now = now
        self.metrics = metrics
        self.logger = logger
    }

    private static let start = ContinuousClock.now

    /// Time since the process began, on the monotonic clock.
    @Sendable static func monotonicNow() -> Duration {
        start.duration(to: .now)
    }

    /// The cached answer, if there is one: lets a publish be decided on its event loop.
    func cached(user: String, topic: String, action: Action) -> Decision? {
        let key = TopicAuthorizationCache.Key(user: user, topic: topic, action: action)
        let now = now()
        return cache.withLock { $0.decision(for: key, now: now) }
    }

    func authorize(user: String, connection: String, topic: String, action: Action) async -> Outcome {
        if let decision = cached(user: user, topic: topic, action: action) { return .decided(decision) }
        let lease: BackendPool.Lease
        switch backends.lease(Self.backendName) {
        case .granted(let granted): lease = granted
        case .notConfigured: return .unavailable("no topic authorizer is configured on this node", retryAfter: nil)
        case .busy:
            metrics.backendCall(Self.backendName, .busy)
            return .unavailable("the topic authorizer has \(backends.maxInFlight) calls in flight", retryAfter: ClientSession.busyRetryAfter)
        case .open(let retryAfter):
            metrics.backendCall(Self.backendName, .unavailable)
            return .unavailable("the topic authorizer is failing; its decisions are paused", retryAfter: retryAfter)
        }
        var request = Switchboard_Topics_V1_AuthorizeRequest()
        request.user = user
        request.topic = topic
        request.action = action == .subscribe ? .subscribe : .publish
        request.connection = connection
        var metadata = backends.callMetadata
        metadata.addString(user, forKey: "x-switchboard-user")
        metadata.addString(connection, forKey: "x-switchboard-connection")
        var options = CallOptions.defaults
        options.timeout = timeout
        // A backend that is down answers at once, not at the deadline.
        options.waitForReady = false
        do {
            let response = try await Switchboard_Topics_V1_TopicAuthorizer.Client(wrapping: lease.client)
                .authorize(request, metadata: metadata, options: options)
            lease.finish(.success)
            metrics.backendCall(Self.backendName, nil)
            let decision: Decision = response.allowed ? .allowed : .denied(String(response.reason.prefix(200)))
            let key = TopicAuthorizationCache.Key(user: user, topic: topic, action: action)
            let now = now()
            cache.withLock { $0.store(decision, for: key, now: now) }
            return .decided(decision)
        } catch {
            let code = (error as? RPCError).map { ErrorCode($0.code) } ?? .internal
            lease.finish(Task.isCancelled ? .abandoned : .failure)
            metrics.backendCall(Self.backendName, code)
            logger.warning("the topic authorizer gave no answer; refused", metadata: ["topic": "\(topic)", "error": "\(error)"])
            return .unavailable("the topic authorizer did not answer (\(code.rawValue))", retryAfter: nil)
        }
    }
}
