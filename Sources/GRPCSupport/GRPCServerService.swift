package import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCertificateReloading
import ServiceLifecycle

/// One HTTP/2 gRPC server (plaintext, TLS or mutual TLS) as a `Service` that stops gracefully, within a bound:
/// how nodes serve the Gateway API and the reference backends serve their services.
///
/// At graceful shutdown the server stops listening and lets RPCs in flight finish. Its
/// connections close only once each client has acknowledged the GOAWAY's ping, so one
/// client that never answers (a stalled backend, a partitioned network) would hold the
/// shutdown forever: after `shutdownGrace` whatever is left is closed.
package struct GRPCServerService: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let shutdownGrace: Duration
    let onListening: @Sendable (Int) async -> Void
    /// Re-reads the certificate when TLS is on.
    let refresh: CertificateRefresh?

    package init(
        host: String,
        port: Int,
        service: any RegistrableRPCService,
        interceptors: [any ServerInterceptor] = [],
        security: GRPCServerSecurity = .plaintext,
        shutdownGrace: Duration = .seconds(2),
        onListening: @escaping @Sendable (Int) async -> Void
    ) {
        self.init(
            host: host, port: port, services: [service], interceptors: interceptors, security: security, shutdownGrace: shutdownGrace,
            onListening: onListening
        )
    }

    /// Several services on one port.
    package init(
        host: String,
        port: Int,
        services: [any RegistrableRPCService],
        interceptors: [any ServerInterceptor] = [],
        security: GRPCServerSecurity = .plaintext,
        shutdownGrace: Duration = .seconds(2),
        onListening: @escaping @Sendable (Int) async -> Void
    ) {
        refresh = security.refresh
        server = GRPCServer(
            transport: HTTP2ServerTransport.Posix(address: .ipv4(host: host, port: port), transportSecurity: security.transport),
            services: services,
            interceptors: interceptors
        )
        self.shutdownGrace = shutdownGrace
        self.onListening = onListening
    }

    private enum Event {
        case listening, served, graceOver, reloaderStopped
    }

    package func run() async throws {
        let server = self.server
        try await withThrowingTaskGroup(of: Event.self) { group in
            if let refresh {
                group.addTask {
                    try? await refresh.run()
                    return .reloaderStopped
                }
            }
            group.addTask {
                do {
                    try await server.serve()
                } catch where Task.isCancelled {
                    // Closed at the end of the grace period.
                }
                return .served
            }
            group.addTask {
                do {
                    if let address = try await server.listeningAddress?.ipv4 { await onListening(address.port) }
                } catch where Task.isCancelled {
                    // Stopped before it was listening.
                }
                return .listening
            }
            group.addTask {
                // Cancelled instead when the owner's shutdown window is over (a ServiceGroup's
                // maximum graceful shutdown duration): that ends the grace early, not in an error.
                try? await gracefulShutdown()
                server.beginGracefulShutdown()
                try? await Task.sleep(for: shutdownGrace)
                return .graceOver
            }
            while let event = try await group.next() {
                switch event {
                case .listening, .reloaderStopped: continue
                case .graceOver: group.cancelAll()  // serve() then returns, its connections closed
                case .served:
                    group.cancelAll()
                    return
                }
            }
        }
    }
}
