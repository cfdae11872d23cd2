package import GRPCCore

/// Refuses calls that do not carry a shared secret as `authorization: Bearer <secret>`:
/// the Gateway API's push secret (backends to nodes), the backend secret (nodes to
/// backends).
package struct BearerSecretInterceptor: ServerInterceptor {
    let expected: String
    /// What the secret is called in the refusal ("push secret").
    let name: String

    package init(secret: String, name: String) {
        expected = "Bearer \(secret)"
        self.name = name
    }

    package func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard let given = request.metadata[stringValues: "authorization"].first(where: { _ in true }), Self.equal(given, expected) else {
            throw RPCError(code: .unauthenticated, message: "missing or wrong \(name): send 'authorization: Bearer <secret>'")
        }
        return try await next(request, context)
    }

    /// Compares without an early exit, so timing tells nothing about the secret.
    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        var difference = a.count ^ b.count
        for index in 0..<min(a.count, b.count) { difference |= Int(a[index] ^ b[index]) }
        return difference == 0
    }
}

extension Metadata {
    /// Metadata carrying `secret` the way `BearerSecretInterceptor` checks it.
    package static func bearer(_ secret: String) -> Metadata {
        var metadata = Metadata()
        metadata.addString("Bearer \(secret)", forKey: "authorization")
        return metadata
    }
}
