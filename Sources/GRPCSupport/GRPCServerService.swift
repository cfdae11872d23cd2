package import GRPCCore
import GRPCNIOTransportHTTP2
import ServiceLifecycle

/// One plaintext HTTP/2 gRPC server as a `Service` that stops gracefully: how nodes
/// serve the Gateway API and the reference backends serve their services.
package struct GRPCServerService: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let onListening: @Sendable (Int) async -> Void

    package init(
        host: String,
        port: Int,
        service: any RegistrableRPCService,
        interceptors: [any ServerInterceptor] = [],
        onListening: @escaping @Sendable (Int) async -> Void
    ) {
        server = GRPCServer(
            transport: HTTP2ServerTransport.Posix(address: .ipv4(host: host, port: port), transportSecurity: .plaintext),
            services: [service],
            interceptors: interceptors
        )
        self.onListening = onListening
    }

    package func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                if let address = try await server.listeningAddress?.ipv4 {
                    await onListening(address.port)
                }
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}
