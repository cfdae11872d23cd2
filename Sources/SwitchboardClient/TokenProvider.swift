/// Where a client's token comes from.
public enum TokenProvider: Sendable {
    /// One token for the client's life: an authentication refusal (HTTP 401) ends it.
    case fixed(String)
    /// Asked before the first connection and again after each authentication refusal
    /// (`fresh` is then true: a cached token must not be returned).
    case provider(@Sendable (_ fresh: Bool) async throws -> String)
}
