import TestSupport
package import GRPCCore
package import GRPCNIOTransportHTTP2
package import GRPCSupport

/// Runs `body` with a plaintext gRPC client to a loopback port.
package func withGRPCClient<Result: Sendable>(
    port: Int, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
    try await GRPCCore.withGRPCClient(
        transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext),
        handleClient: body
    )
}

/// Runs `body` with a gRPC client to a loopback port over `security` (TLS, mutual TLS).
package func withGRPCClient<Result: Sendable>(
    port: Int, security: GRPCClientSecurity, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
    let client = try GRPCEndpoint(host: "127.0.0.1", port: port).makeClient(security: security)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await client.runConnections() }
        defer { client.beginGracefulShutdown() }
        return try await body(client)
    }
}
