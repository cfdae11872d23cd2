import GRPCCore

/// The user a call is made for, as the gateway stated it in metadata. Backends sit
/// behind the gateway, which sets this from the client's verified token.
enum CallerIdentity {
    static let userKey = "x-switchboard-user"

    static func user(of metadata: Metadata) throws -> String {
        guard let user = metadata[stringValues: userKey].first(where: { !$0.isEmpty }) else {
            throw RPCError(code: .unauthenticated, message: "no \(userKey) metadata: call through the gateway")
        }
        return user
    }
}
