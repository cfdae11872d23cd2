import Essentials
import GRPCCore
import Identity
import Presence
import Routing
import SwiftProtobuf
import SwitchboardProtocol

/// A push a backend asked for through the Gateway API, checked: what to push, to whom, and
/// whether it asked to keep it. The unary calls and `PushStream` items make the same checks.
struct PushRequest: Sendable {
    private(set) var payload: PushPayload
    let audience: PushAudience
    /// As the call asked (nil: by kind); only a user has an inbox.
    let durable: Bool?
    /// What the topic's namespace keeps of its publishes, for a publish to a topic.
    private(set) var history: TopicHistory?

    init(_ content: Switchboard_Gateway_V1_PushContent, to audience: PushAudience, durable: Bool? = false) throws(RPCError) {
        var payload: PushPayload
        let from = content.from.isEmpty ? "backend" : content.from, kind = content.kind.isEmpty ? "notification" : content.kind
        do {
            if content.dataJson.isEmpty {
                payload = try PushPayload(from: from, kind: kind, value: content.data, origin: .backend)
            } else {
                guard content.data.kind == nil else { throw RPCError(code: .invalidArgument, message: "set data or dataJson, not both") }
                payload = PushPayload(from: from, kind: kind, data: try PushPayload.checkedJSON(Array(content.dataJson)), origin: .backend)
            }
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(code: .invalidArgument, message: "\(error)")
        }
        if !content.causedBy.isEmpty {
            if let problem = UserID.problem(content.causedBy) { throw RPCError(code: .invalidArgument, message: "causedBy: \(problem)") }
            payload.causedBy = content.causedBy
        }
        self.payload = payload
        self.audience = audience
        self.durable = durable
    }

    /// To every connection of `user`, who must follow the user id rule (`UserID`).
    init(_ content: Switchboard_Gateway_V1_PushContent, toUser user: String, durable: Bool?) throws(RPCError) {
        try GatewayAPIService.check(user: user)
        try self.init(content, to: .user(user), durable: durable)
    }

    /// To every subscriber of `topic`, which must follow the name rule (`TopicName`) and be
    /// in one of `namespaces`.
    init(_ content: Switchboard_Gateway_V1_PushContent, toTopic topic: String, namespaces: TopicNamespaces) throws(RPCError) {
        try GatewayAPIService.check(topic: topic, in: namespaces)
        try self.init(content, to: .topic(topic))
        payload.topic = topic
        history = namespaces.rules(for: topic)?.history
    }

    /// To one connection, named as presence reports it.
    init(_ content: Switchboard_Gateway_V1_PushContent, toConnection connection: String) throws(RPCError) {
        guard let id = ConnectionID(connection) else {
            throw RPCError(code: .invalidArgument, message: "connection must look like '<node>/<sequence>', got '\(connection)'")
        }
        try self.init(content, to: .connection(id))
    }
}
