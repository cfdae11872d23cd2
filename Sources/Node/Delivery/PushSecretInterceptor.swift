import GRPCCore

/// Refuses Gateway API calls that do not carry the push secret
/// (`authorization: Bearer <secret>`).
struct PushSecretInterceptor: ServerInterceptor {
    let expected: String

    init(secret: String) {
        expected = "Bearer \(secret)"
    }

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard let given = request.metadata[stringValues: "authorization"].first(where: { _ in true }), Self.equal(given, expected) else {
            throw RPCError(code: .unauthenticated, message: "missing or wrong push secret: send 'authorization: Bearer <secret>'")
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
