import Essentials
import GRPCCore
import Identity

/// The user a call is made for, as the gateway stated it in metadata. Backends sit
/// behind the gateway, which sets this from the client's verified token.
enum CallerIdentity {
    static let userKey = "x-switchboard-user"

    static func user(of metadata: Metadata) throws -> String {
        guard let user = metadata[stringValues: userKey].first(where: { !$0.isEmpty }) else {
            throw RPCError(code: .unauthenticated, message: "no \(userKey) metadata: call through the gateway")
        }
        if let problem = UserID.problem(user) { throw RPCError(code: .unauthenticated, message: "\(userKey): \(problem)") }
        return user
    }

    /// A user id named in a request (`to`, `with`, `user`), under the node's rule.
    static func check(_ id: String, field: String) throws {
        if let problem = UserID.problem(id) { throw RPCError(code: .invalidArgument, message: "\(field): \(problem)") }
    }
}
