import CoreMetrics
import GRPCCore
import GRPCSupport
import Logging
import NIOCore
import Routing
import ServiceLifecycle
import Synchronization

/// One gRPC client per configured backend, created once and kept connected, with a cap
/// on calls in flight to each (so that a slow backend cannot absorb the node's memory)
/// and a circuit breaker (so that a failing one is answered for at once, not waited on).
final class BackendPool: Service, Sendable {
    fileprivate final class Backend: Sendable {
        let name: String
        let endpoint: GRPCEndpoint
        let client: GRPCHTTP2Client
        let inFlight = InFlightCounter()
        let breaker: Mutex<CircuitBreaker>
        let stateGauge: CoreMetrics.Gauge
        let opened: CoreMetrics.Counter

        init(name: String, endpoint: GRPCEndpoint, client: GRPCHTTP2Client, policy: CircuitBreaker.Policy, metrics: NodeMetrics) {
            self.name = name
            self.endpoint = endpoint
            self.client = client
            breaker = Mutex(CircuitBreaker(policy: policy))
            (stateGauge, opened) = metrics.circuit(backend: name)
            stateGauge.record(0)
        }

        func admit() -> CircuitBreaker.Admission {
            let (admission, state) = breaker.withLock { breaker in (breaker.admit(now: .now()), breaker.state) }
            if admission == .probe { show(state) }
            return admission
        }

        func record(_ outcome: CircuitBreaker.Outcome, probe: Bool, logger: Logger) {
            let (opened, state) = breaker.withLock { breaker in (breaker.record(outcome, probe: probe, now: .now()), breaker.state) }
            if opened {
                self.opened.increment()
                logger.warning("backend circuit opened: its calls are answered unavailable until a probe succeeds", metadata: ["backend": "\(name)"])
            } else if probe, state == .closed {
                logger.info("backend circuit closed: a probe succeeded", metadata: ["backend": "\(name)"])
            }
            if opened || probe { show(state) }
        }

        private func show(_ state: CircuitBreaker.State) {
            switch state {
            case .closed: stateGauge.record(0)
            case .halfOpen: stateGauge.record(1)
            case .open: stateGauge.record(2)
            }
        }
    }

    private let backends: [String: Backend]
    let maxInFlight: Int
    /// What every call carries before the caller's identity: the backend secret.
    let callMetadata: Metadata
    private let security: GRPCClientSecurity
    private let logger: Logger

    /// `tls` nil: plaintext. Throws when a TLS file does not load.
    init(
        endpoints: [String: GRPCEndpoint], tls: GRPCClientTLS?, secret: String, maxInFlight: Int, breaker: CircuitBreaker.Policy,
        metrics: NodeMetrics, logger: Logger
    ) throws {
        security = try tls?.load(logger: logger) ?? .plaintext
        var backends: [String: Backend] = [:]
        for (name, endpoint) in endpoints {
            backends[name] = Backend(
                name: name, endpoint: endpoint, client: try endpoint.makeClient(security: security), policy: breaker, metrics: metrics
            )
        }
        self.backends = backends
        callMetadata = .bearer(secret)
        self.maxInFlight = maxInFlight
        self.logger = logger
    }

    /// One admitted call: `client` to make it with, `finish` to call once with how it ended.
    struct Lease: Sendable {
        let client: GRPCHTTP2Client
        fileprivate let backend: Backend
        fileprivate let probe: Bool
        fileprivate let logger: Logger

        func finish(_ outcome: CircuitBreaker.Outcome) {
            backend.inFlight.release()
            backend.record(outcome, probe: probe, logger: logger)
        }
    }

    enum Admission {
        case granted(Lease)
        case notConfigured
        /// At its in-flight cap.
        case busy
        /// Its circuit is open: try again after `retryAfter`.
        case open(retryAfter: Duration)
    }

    /// A client for `backend` if it is configured, under its in-flight cap and its
    /// circuit lets the call out.
    func lease(_ name: String) -> Admission {
        guard let backend = backends[name] else { return .notConfigured }
        guard backend.inFlight.acquire(limit: maxInFlight) else { return .busy }
        switch backend.admit() {
        case .allowed: return .granted(Lease(client: backend.client, backend: backend, probe: false, logger: logger))
        case .probe: return .granted(Lease(client: backend.client, backend: backend, probe: true, logger: logger))
        case .refused(let retryAfter):
            backend.inFlight.release()
            return .open(retryAfter: retryAfter)
        }
    }

    /// Keeps every client's connections (and its certificate) up until shutdown.
    func run() async throws {
        await withDiscardingTaskGroup { group in
            if !backends.isEmpty { group.addTask { [security] in await security.keepCertificateCurrent() } }
            for (name, backend) in backends {
                logger.info("backend configured", metadata: ["backend": "\(name)", "endpoint": "\(backend.endpoint)"])
                group.addTask { try? await backend.client.runConnections() }
            }
            group.addTask { [backends] in
                try? await gracefulShutdown()
                for backend in backends.values { backend.client.beginGracefulShutdown() }
            }
        }
    }
}

/// Calls in flight to one backend.
final class InFlightCounter: Sendable {
    private let count = Atomic<Int>(0)

    func acquire(limit: Int) -> Bool {
        if count.add(1, ordering: .relaxed).newValue > limit {
            count.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() {
        count.subtract(1, ordering: .relaxed)
    }
}
