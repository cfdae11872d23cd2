import GRPCCore
import SwitchboardProtocol

/// The reference topic authorizer, served beside Chat: a topic whose name after its
/// namespace lists users joined by `+` (`dm:alice+bob`, a private conversation) is open to
/// those users only, for subscribing and publishing alike; any other topic is refused,
/// with the rule as the reason. A real deployment asks its own membership data here.
struct TopicAuthorizerBackend: Switchboard_Topics_V1_TopicAuthorizer.ServiceProtocol {
    func authorize(
        request: ServerRequest<Switchboard_Topics_V1_AuthorizeRequest>, context: ServerContext
    ) async throws -> ServerResponse<Switchboard_Topics_V1_AuthorizeResponse> {
        let caller = try CallerIdentity.user(of: request.metadata)
        guard request.message.user == caller else {
            throw RPCError(code: .invalidArgument, message: "user differs from the x-switchboard-user metadata")
        }
        var response = Switchboard_Topics_V1_AuthorizeResponse()
        switch Self.members(of: request.message.topic) {
        case let members? where members.contains(Substring(caller)):
            response.allowed = true
        case _?:
            response.reason = "only the users the topic names may use it"
        case nil:
            response.reason = "this authorizer allows only topics naming their users, as dm:alice+bob"
        }
        return ServerResponse(message: response)
    }

    /// The users a topic names after its namespace (two or more, joined by `+`), or nil.
    static func members(of topic: String) -> Set<Substring>? {
        guard let colon = topic.firstIndex(of: ":") else { return nil }
        let names = topic[topic.index(after: colon)...].split(separator: "+", omittingEmptySubsequences: false)
        guard names.count >= 2, !names.contains(where: \.isEmpty) else { return nil }
        return Set(names)
    }
}
