import SwitchboardProtocol
import CoreMetrics
import Prometheus
import Synchronization

/// The node's Prometheus metrics, served at `/metrics`.
///
/// Each node owns its registry (no global bootstrap), so several nodes in one process,
/// as in tests, keep separate counts.
final class NodeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let connections: CoreMetrics.Gauge
    let connectionsOpened: CoreMetrics.Counter
    let messagesIn: CoreMetrics.Counter
    let messagesOut: CoreMetrics.Counter
    /// Frames dropped from the outbound queue of a connection closed as a slow consumer.
    let queueDrops: CoreMetrics.Counter
    let authFailures: CoreMetrics.Counter
    /// Upgrades refused because the node held `maxConnections`.
    let capacityRefusals: CoreMetrics.Counter
    let badFrames: CoreMetrics.Counter
    /// Pushes handed to other nodes through Redis (one per node a push went to).
    let relayOut: CoreMetrics.Counter
    /// Pushes other nodes relayed here.
    let relayIn: CoreMetrics.Counter
    /// Pushes whose cross-node part failed (Redis unavailable).
    let relayErrors: CoreMetrics.Counter
    /// Presence writes or lookups that failed.
    let presenceErrors: CoreMetrics.Counter
    /// Inbox reads (resume, gap fill) that failed.
    let inboxErrors: CoreMetrics.Counter
    /// Durable pushes a connection fetched from the inbox after a cut in the relay.
    let inboxCatchUps: CoreMetrics.Counter
    /// Connects that named a position to resume from, by whether the inbox still reached back that far.
    private let resumed: CoreMetrics.Counter
    private let notRecovered: CoreMetrics.Counter
    /// 1 while the node takes clients (`/readyz` 200), set at each scrape.
    let ready: CoreMetrics.Gauge
    /// Topics with a subscriber on this node — each one Redis channel the node subscribes
    /// to in a cluster — and its connections' subscriptions; set at each scrape.
    let topics: CoreMetrics.Gauge
    let topicSubscriptions: CoreMetrics.Gauge
    /// 1 while connected and subscribed to Redis; only on a node in a cluster.
    let redisUp: CoreMetrics.Gauge?
    private let closes: [CloseReason: CoreMetrics.Counter]
    private let limitHits: [AbuseLimit: CoreMetrics.Counter]
    private let factory: PrometheusMetricsFactory
    private let nodeID: String
    /// Backend-call counters by backend and outcome, made on first use.
    private let backendCalls = Mutex<[String: CoreMetrics.Counter]>([:])

    init(nodeID: String, clustered: Bool) {
        let factory = PrometheusMetricsFactory(registry: registry)
        self.factory = factory
        self.nodeID = nodeID
        let node = [("node", nodeID)]
        connections = CoreMetrics.Gauge(label: "switchboard_connections", dimensions: node, factory: factory)
        connectionsOpened = CoreMetrics.Counter(label: "switchboard_connections_opened_total", dimensions: node, factory: factory)
        messagesIn = CoreMetrics.Counter(label: "switchboard_messages_in_total", dimensions: node, factory: factory)
        messagesOut = CoreMetrics.Counter(label: "switchboard_messages_out_total", dimensions: node, factory: factory)
        queueDrops = CoreMetrics.Counter(label: "switchboard_queue_drops_total", dimensions: node, factory: factory)
        authFailures = CoreMetrics.Counter(label: "switchboard_auth_failures_total", dimensions: node, factory: factory)
        capacityRefusals = CoreMetrics.Counter(label: "switchboard_capacity_refusals_total", dimensions: node, factory: factory)
        badFrames = CoreMetrics.Counter(label: "switchboard_bad_frames_total", dimensions: node, factory: factory)
        relayOut = CoreMetrics.Counter(label: "switchboard_relay_out_total", dimensions: node, factory: factory)
        relayIn = CoreMetrics.Counter(label: "switchboard_relay_in_total", dimensions: node, factory: factory)
        relayErrors = CoreMetrics.Counter(label: "switchboard_relay_errors_total", dimensions: node, factory: factory)
        presenceErrors = CoreMetrics.Counter(label: "switchboard_presence_errors_total", dimensions: node, factory: factory)
        inboxErrors = CoreMetrics.Counter(label: "switchboard_inbox_errors_total", dimensions: node, factory: factory)
        inboxCatchUps = CoreMetrics.Counter(label: "switchboard_inbox_catch_ups_total", dimensions: node, factory: factory)
        resumed = CoreMetrics.Counter(label: "switchboard_resumes_total", dimensions: node + [("recovered", "true")], factory: factory)
        notRecovered = CoreMetrics.Counter(label: "switchboard_resumes_total", dimensions: node + [("recovered", "false")], factory: factory)
        ready = CoreMetrics.Gauge(label: "switchboard_ready", dimensions: node, factory: factory)
        topics = CoreMetrics.Gauge(label: "switchboard_topics", dimensions: node, factory: factory)
        topicSubscriptions = CoreMetrics.Gauge(label: "switchboard_topic_subscriptions", dimensions: node, factory: factory)
        redisUp = clustered ? CoreMetrics.Gauge(label: "switchboard_redis_up", dimensions: node, factory: factory) : nil
        var closes: [CloseReason: CoreMetrics.Counter] = [:]
        for reason in CloseReason.allCases {
            closes[reason] = CoreMetrics.Counter(label: "switchboard_closes_total", dimensions: node + [("reason", reason.rawValue)], factory: factory)
        }
        self.closes = closes
        var limitHits: [AbuseLimit: CoreMetrics.Counter] = [:]
        for limit in AbuseLimit.allCases {
            limitHits[limit] = CoreMetrics.Counter(label: "switchboard_limit_hits_total", dimensions: node + [("limit", limit.rawValue)], factory: factory)
        }
        self.limitHits = limitHits
    }

    /// One backend's circuit breaker: its state (0 closed, 1 half-open, 2 open) and how
    /// often it opened.
    func circuit(backend: String) -> (state: CoreMetrics.Gauge, opened: CoreMetrics.Counter) {
        let dimensions = [("node", nodeID), ("backend", backend)]
        return (
            CoreMetrics.Gauge(label: "switchboard_backend_circuit_state", dimensions: dimensions, factory: factory),
            CoreMetrics.Counter(label: "switchboard_backend_circuit_opened_total", dimensions: dimensions, factory: factory)
        )
    }

    /// Counts a client stopped by `limit`.
    func hit(_ limit: AbuseLimit) {
        limitHits[limit]?.increment()
    }

    /// Counts a backend call by backend and outcome (`ok`, or the client error code).
    func backendCall(_ backend: String, _ failure: ErrorCode?) {
        backendCall(backend, outcome: failure?.rawValue ?? "ok")
    }

    /// Counts a backend call by backend and `outcome`: `ok`, a client error code, or
    /// `cancelled` (its connection went first).
    func backendCall(_ backend: String, outcome: String) {
        let counter = backendCalls.withLock { counters in
            let key = "\(backend)/\(outcome)"
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(
                label: "switchboard_backend_calls_total",
                dimensions: [("node", nodeID), ("backend", backend), ("outcome", outcome)],
                factory: factory
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    func resumes(recovered: Bool) {
        (recovered ? resumed : notRecovered).increment()
    }

    func closed(_ reason: CloseReason) {
        closes[reason]?.increment()
    }

    /// The Prometheus text exposition of every metric.
    func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
