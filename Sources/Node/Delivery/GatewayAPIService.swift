import Essentials
import GRPCCore
import Logging
import Presence
import Routing
import SwitchboardProtocol

/// The Gateway API: how backends reach clients through any node.
struct GatewayAPIService: Switchboard_Gateway_V1_GatewayService.SimpleServiceProtocol {
    let node: GatewayNode

    func pushToUser(
        request: Switchboard_Gateway_V1_PushToUserRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_PushOutcome {
        try Self.check(user: request.user)
        return try await push(request.push, to: .user(request.user), durable: request.hasDurable ? request.durable : nil)
    }

    func pushToConnection(
        request: Switchboard_Gateway_V1_PushToConnectionRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_PushOutcome {
        guard let connection = ConnectionID(request.connection) else {
            throw RPCError(code: .invalidArgument, message: "connection must look like '<node>/<sequence>', got '\(request.connection)'")
        }
        return try await push(request.push, to: .connection(connection))
    }

    func broadcast(
        request: Switchboard_Gateway_V1_BroadcastRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_PushOutcome {
        try await push(request.push, to: .everyone)
    }

    func getPresence(
        request: Switchboard_Gateway_V1_GetPresenceRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_GetPresenceResponse {
        try Self.check(user: request.user)
        let entries: [PresenceEntry]
        do {
            entries = try await node.presence.lookup(user: request.user)
        } catch {
            throw unavailable("presence is unavailable", error)
        }
        var response = Switchboard_Gateway_V1_GetPresenceResponse()
        response.connections = entries.map { entry in
            var connection = Switchboard_Gateway_V1_PresenceConnection()
            connection.connection = entry.connection.description
            connection.node = entry.nodeID
            return connection
        }
        return response
    }

    func disconnectUser(
        request: Switchboard_Gateway_V1_DisconnectUserRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_DisconnectUserResponse {
        try Self.check(user: request.user)
        let reason = request.reason.isEmpty ? "disconnected by the service" : request.reason
        do {
            let outcome = try await node.disconnect(user: request.user, reason: reason)
            var response = Switchboard_Gateway_V1_DisconnectUserResponse()
            response.closedLocal = Int32(outcome.localConnections)
            response.relayedNodes = Int32(outcome.relayedNodes)
            return response
        } catch {
            throw unavailable("the disconnect did not reach every node", error)
        }
    }

    /// `durable`: as the call asked (nil: by kind); only a user has an inbox. A backend that
    /// asks for `durable: true` by name vouches for the user: that push may begin an inbox
    /// for a user who has never connected. Durable by kind, it may not (a chat message to a
    /// made-up name must not make Redis keep an inbox for it).
    private func push(
        _ content: Switchboard_Gateway_V1_PushContent, to audience: PushAudience, durable: Bool? = false
    ) async throws -> Switchboard_Gateway_V1_PushOutcome {
        var push: PushPayload
        do {
            push = try PushPayload(
                from: content.from.isEmpty ? "backend" : content.from, kind: content.kind.isEmpty ? "notification" : content.kind,
                value: content.data, origin: .backend
            )
        } catch {
            throw RPCError(code: .invalidArgument, message: "\(error)")
        }
        if !content.causedBy.isEmpty {
            if let problem = UserID.problem(content.causedBy) { throw RPCError(code: .invalidArgument, message: "causedBy: \(problem)") }
            push.causedBy = content.causedBy
        }
        do {
            let outcome = try await node.push(
                push, to: audience, durable: node.configuration.inbox.isDurable(kind: push.kind, requested: durable), beginsInbox: durable == true
            )
            var answer = Switchboard_Gateway_V1_PushOutcome()
            answer.deliveredLocal = Int32(outcome.localConnections)
            answer.relayedNodes = Int32(outcome.relayedNodes)
            answer.offline = outcome.isOffline
            if let stored = outcome.stored {
                answer.stored = true
                answer.epoch = stored.epoch
                answer.offset = stored.offset
            }
            return answer
        } catch {
            throw unavailable("the push could not be relayed or stored", error)
        }
    }

    /// A failure the caller cannot know the cause of: the detail (Redis' address, a
    /// transport error) goes to the node's log under an incident id; the caller gets `what`
    /// and the id to quote.
    private func unavailable(_ what: String, _ error: any Error) -> RPCError {
        let incident = Incident.makeID()
        node.logger.warning("Gateway API: \(what)", metadata: ["incident": "\(incident)", "error": "\(error)"])
        return RPCError(code: .unavailable, message: "\(what) (incident \(incident))")
    }

    /// The user id rule every entry point applies (`UserID`), here for backends.
    private static func check(user: String) throws(RPCError) {
        if let problem = UserID.problem(user) { throw RPCError(code: .invalidArgument, message: "user: \(problem)") }
    }
}
