package import GRPCCore
package import GRPCNIOTransportHTTP2

/// Runs `body` with a plaintext gRPC client to a loopback port.
package func withGRPCClient<Result: Sendable>(
    port: Int, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
    try await GRPCCore.withGRPCClient(
        transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext),
        handleClient: body
    )
}
