import GRPCCore
import GRPCSupport
import Logging
import Routing
import ServiceLifecycle
import Synchronization

/// One gRPC client per configured backend, created once and kept connected, with a cap
/// on calls in flight to each so that a slow backend cannot absorb the node's memory.
final class BackendPool: Service, Sendable {
    private struct Backend: Sendable {
        let endpoint: GRPCEndpoint
        let client: GRPCHTTP2Client
        let inFlight: InFlightCounter
    }

    private let backends: [String: Backend]
    let maxInFlight: Int
    /// What every call carries before the caller's identity: the backend secret.
    let callMetadata: Metadata
    private let security: GRPCClientSecurity
    private let logger: Logger

    /// `tls` nil: plaintext. Throws when a TLS file does not load.
    init(endpoints: [String: GRPCEndpoint], tls: GRPCClientTLS?, secret: String, maxInFlight: Int, logger: Logger) throws {
        security = try tls?.load(logger: logger) ?? .plaintext
        var backends: [String: Backend] = [:]
        for (name, endpoint) in endpoints {
            backends[name] = Backend(endpoint: endpoint, client: try endpoint.makeClient(security: security), inFlight: InFlightCounter())
        }
        self.backends = backends
        callMetadata = .bearer(secret)
        self.maxInFlight = maxInFlight
        self.logger = logger
    }

    enum Lease {
        case granted(GRPCHTTP2Client, release: @Sendable () -> Void)
        case notConfigured
        case busy
    }

    /// A client for `backend` if it is configured and under its in-flight cap; call
    /// `release` when the call is done.
    func lease(_ backend: String) -> Lease {
        guard let entry = backends[backend] else { return .notConfigured }
        guard entry.inFlight.acquire(limit: maxInFlight) else { return .busy }
        return .granted(entry.client, release: { entry.inFlight.release() })
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
