import Essentials
import GRPCCore
import Identity
import Logging
import Presence
import Routing
import SwitchboardProtocol

/// The Gateway API: how backends reach clients through any node.
struct GatewayAPIService: Switchboard_Gateway_V1_GatewayService.SimpleServiceProtocol {
    let delivery: PushDelivery
    let presence: any PresenceDirectory
    let topicPresence: any TopicPresenceDirectory
    /// The most connections a topic presence answer lists unless asked for fewer.
    let presenceLimit: Int
    /// Which pushes are durable.
    let inbox: InboxPolicy
    /// The topic namespaces a publish's topic must be in.
    let topics: TopicNamespaces
    /// Where a user's server-side subscriptions are kept, at most `topicsPerUser` each.
    let userTopics: any UserTopicStore
    let topicsPerUser: Int
    let logger: Logger

    func pushToUser(
        request: Switchboard_Gateway_V1_PushToUserRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_PushOutcome {
        try await send(PushRequest(request.push, toUser: request.user, durable: request.hasDurable ? request.durable : nil))
    }

    func pushToConnection(
        request: Switchboard_Gateway_V1_PushToConnectionRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_PushOutcome {
        try await send(PushRequest(request.push, toConnection: request.connection))
    }

    func broadcast(
        request: Switchboard_Gateway_V1_BroadcastRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_PushOutcome {
        try await send(PushRequest(request.push, to: .everyone))
    }

    func publishToTopic(
        request: Switchboard_Gateway_V1_PublishToTopicRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_PushOutcome {
        try await send(PushRequest(request.push, toTopic: request.topic, namespaces: topics))
    }

    func subscribe(
        request: Switchboard_Gateway_V1_SubscriptionRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_SubscriptionOutcome {
        try await change(request, subscribe: true)
    }

    func unsubscribe(
        request: Switchboard_Gateway_V1_SubscriptionRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_SubscriptionOutcome {
        try await change(request, subscribe: false)
    }

    /// A user's subscription is stored first (so a connect meanwhile restores it), then
    /// every node holding the user is told; one connection's is only told.
    private func change(_ request: Switchboard_Gateway_V1_SubscriptionRequest, subscribe: Bool) async throws -> Switchboard_Gateway_V1_SubscriptionOutcome {
        try Self.check(topic: request.topic, in: topics)
        let audience: PushAudience
        var response = Switchboard_Gateway_V1_SubscriptionOutcome()
        switch request.target {
        case .user(let user):
            try Self.check(user: user)
            let kept: Bool
            do {
                if subscribe {
                    kept = try await userTopics.add(request.topic, for: user, limit: topicsPerUser)
                } else {
                    try await userTopics.remove(request.topic, for: user)
                    kept = true
                }
            } catch {
                throw unavailable("the subscription could not be stored", error)
            }
            guard kept else {
                throw RPCError(code: .resourceExhausted, message: "user: a backend keeps \(topicsPerUser) topics for one user at most (topics-per-connection); unsubscribe one first")
            }
            audience = .user(user)
            response.stored = subscribe
        case .connection(let text):
            guard let id = ConnectionID(text) else {
                throw RPCError(code: .invalidArgument, message: "connection must look like '<node>/<sequence>', got '\(text)'")
            }
            audience = .connection(id)
        case nil:
            throw RPCError(code: .invalidArgument, message: "the request names no target: set user or connection")
        }
        do {
            let outcome = try await delivery.change(audience, topic: request.topic, subscribe: subscribe)
            response.changedLocal = Int32(outcome.localConnections)
            response.relayedNodes = Int32(outcome.relayedNodes)
            return response
        } catch {
            throw unavailable("the subscription did not reach every node", error)
        }
    }

    func getPresence(
        request: Switchboard_Gateway_V1_GetPresenceRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_GetPresenceResponse {
        try Self.check(user: request.user)
        let entries: [PresenceEntry]
        do {
            entries = try await presence.lookup(user: request.user)
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

    func getTopicPresence(
        request: Switchboard_Gateway_V1_GetTopicPresenceRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_GetTopicPresenceResponse {
        try Self.check(topic: request.topic, in: topics)
        guard let namespace = topics.rules(for: request.topic), namespace.presence else {
            throw RPCError(code: .failedPrecondition, message: "topic: its namespace keeps no presence (its presence=on option)")
        }
        let limit = request.limit == 0 ? presenceLimit : min(Int(request.limit), presenceLimit)
        let found: PresenceLookup
        do {
            found = try await topicPresence.lookup(topic: request.topic, limit: limit)
        } catch {
            throw unavailable("topic presence is unavailable", error)
        }
        var response = Switchboard_Gateway_V1_GetTopicPresenceResponse()
        response.total = UInt32(clamping: found.total)
        response.subscribers = found.entries.map { entry in
            var subscriber = Switchboard_Gateway_V1_TopicSubscriber()
            subscriber.user = entry.user
            subscriber.connection = entry.connection.description
            subscriber.node = entry.nodeID
            return subscriber
        }
        return response
    }

    func disconnectUser(
        request: Switchboard_Gateway_V1_DisconnectUserRequest, context: ServerContext
    ) async throws -> Switchboard_Gateway_V1_DisconnectUserResponse {
        try Self.check(user: request.user)
        let reason = request.reason.isEmpty ? "disconnected by the service" : request.reason
        do {
            let outcome = try await delivery.disconnect(user: request.user, reason: reason)
            var response = Switchboard_Gateway_V1_DisconnectUserResponse()
            response.closedLocal = Int32(outcome.localConnections)
            response.relayedNodes = Int32(outcome.relayedNodes)
            return response
        } catch {
            throw unavailable("the disconnect did not reach every node", error)
        }
    }

    private func send(_ request: PushRequest) async throws -> Switchboard_Gateway_V1_PushOutcome {
        try await withCheckedThrowingContinuation { continuation in
            send(request) { continuation.resume(with: $0) }
        }
    }

    /// Routes a checked push; `answer` runs once, on the loop where the push completed.
    ///
    /// A backend that asks for `durable: true` by name vouches for the user: that push may
    /// begin an inbox for a user who has never connected. Durable by kind, it may not (a
    /// chat message to a made-up name must not make Redis keep an inbox for it).
    func send(_ request: PushRequest, then answer: @escaping @Sendable (Result<Switchboard_Gateway_V1_PushOutcome, RPCError>) -> Void) {
        let durable = inbox.isDurable(kind: request.payload.kind, requested: request.durable)
        delivery.push(request.payload, to: request.audience, durable: durable, beginsInbox: request.durable == true, history: request.history) { result in
            switch result {
            case .success(let outcome):
                var pushed = Switchboard_Gateway_V1_PushOutcome()
                pushed.deliveredLocal = Int32(outcome.localConnections)
                pushed.relayedNodes = Int32(outcome.relayedNodes)
                pushed.offline = outcome.isOffline
                if let stored = outcome.stored {
                    pushed.stored = true
                    pushed.epoch = stored.epoch
                    pushed.offset = stored.offset
                }
                answer(.success(pushed))
            case .failure(let error):
                answer(.failure(unavailable("the push could not be relayed or stored", error)))
            }
        }
    }

    /// A failure the caller cannot know the cause of: the detail (Redis' address, a
    /// transport error) goes to the node's log under an incident id; the caller gets `what`
    /// and the id to quote.
    private func unavailable(_ what: String, _ error: any Error) -> RPCError {
        let incident = Incident.makeID()
        logger.warning("Gateway API: \(what)", metadata: ["incident": "\(incident)", "error": "\(error)"])
        return RPCError(code: .unavailable, message: "\(what) (incident \(incident))")
    }

    /// The topic name rule every entry point applies (`TopicName`), and a namespace the node has.
    static func check(topic: String, in namespaces: TopicNamespaces) throws(RPCError) {
        if let problem = TopicName.problem(topic) { throw RPCError(code: .invalidArgument, message: "topic: \(problem)") }
        guard namespaces.rules(for: topic) != nil else {
            throw RPCError(code: .invalidArgument, message: "topic: '\(topic)' is in no namespace this node has (its topic-namespaces setting)")
        }
    }

    /// The user id rule every entry point applies (`UserID`), here for backends.
    static func check(user: String) throws(RPCError) {
        if let problem = UserID.problem(user) { throw RPCError(code: .invalidArgument, message: "user: \(problem)") }
    }
}
