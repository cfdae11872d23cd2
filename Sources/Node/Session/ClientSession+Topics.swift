import CoreMetrics
import Identity
import Logging
import Presence
import Routing
import SwiftProtobuf
import SwitchboardProtocol

/// A client's topics: subscribe, unsubscribe, publish and topic presence (docs/protocol.md
/// § Topics). A subscribe waits until pushes to the topic from every node reach this one.
/// Unsubscribe and publish are handled on the connection's event loop, unless topic
/// presence must be withdrawn first or the authorizer asked: then in the session's task.
extension ClientSession {
    func subscribe(_ request: Switchboard_V1_SubscribeRequest, id: String) async {
        let topic = request.topic
        guard let namespace = await allowed(\.subscribe, on: topic, field: "subscribe", id: id) else { return }
        if request.hasSince, namespace.history == nil {
            return reply(to: id, error: .invalidArgument, "subscribe.since: namespace '\(namespace.name)' keeps no history (its history=N option)")
        }
        let limit = services.configuration.topicsPerConnection
        // A kept topic's publishes wait behind the answer and the replay.
        let cursor = namespace.history.map { _ in InboxCursor(maxWaiting: connection.queue.maxMessages) }
        switch connection.topics.add(topic, limit: limit, cursor: cursor) {
        case .full:
            return reply(to: id, error: .limitExceeded, "subscribe: this connection is subscribed to \(limit) topics, as many as one may be; unsubscribe from one first")
        case .already:
            break
        case .added:
            await join(topic, namespace)
            if let history = namespace.history, let cursor {
                return await answer(id, topic, history, since: request.hasSince ? request.since.position : nil, cursor: cursor)
            }
        }
        reply(to: id, ok: .init(structValue: ["topic": .init(stringValue: topic)]))
    }

    /// A kept topic's subscribe answer — where its history stands, and whether everything
    /// after `since` was recovered — then those publishes, then what was published
    /// meanwhile past them, in order, none twice. The history cannot be read (Redis down):
    /// the subscribe is undone and answered `unavailable`.
    private func answer(_ id: String, _ topic: String, _ history: TopicHistory, since: InboxPosition?, cursor: InboxCursor) async {
        let read: InboxRead
        do {
            read = try await services.bus.readHistory(
                of: topic, after: since?.offset ?? 0, limit: since == nil ? 0 : max(connection.queue.maxMessages / 2, 1),
                maxBytes: connection.queue.maxBytes / 2, beginning: history
            )
        } catch {
            if connection.topics.remove(topic) { await leave(topic) }
            return reply(to: id, .unavailable, "subscribe: the topic's history could not be read; retry", incident: error)
        }
        var fields: [String: Google_Protobuf_Value] = ["topic": .init(stringValue: topic)]
        var replay: [PushPayload] = []
        var replayedTo: InboxPosition?
        var position = read.position
        if let since {
            // Recovered: the same life of the history, reaching back to `since`, and the
            // replay reaches its end.
            let reached = read.pushes.last?.position?.offset ?? since.offset
            let sameLife = since.epoch.isEmpty || since.epoch == read.epoch
            let recovered = sameLife && read.recovers(after: since) && reached >= read.latest
            fields["recovered"] = .init(boolValue: recovered)
            if recovered {
                replay = read.pushes
                position = InboxPosition(epoch: read.epoch ?? "", offset: since.offset)
                replayedTo = replay.last?.position ?? position
            }
            metrics.resumes(recovered: recovered)
        }
        if replayedTo == nil { position = cursor.live(from: position) }
        fields["position"] = position.protobufValue
        fields["replayed"] = .init(numberValue: Double(replay.count))
        var frame = Switchboard_V1_ServerFrame()
        frame.id = id
        frame.ok = .init(structValue: .init(fields: fields))
        let format = connection.format
        let first = [FrameCodec.encode(frame, as: format)] + replay.map { FrameCodec.encode(push: $0, as: format) }
        let connection = self.connection
        cursor.welcome(first: first, replayedTo: replayedTo) { connection.enqueue($0) }
    }

    /// Here first, so that a publish on this node reaches it at once; then the cluster,
    /// which returns once every other node's publishes reach this one; then topic
    /// presence, when the namespace keeps it.
    private func join(_ topic: String, _ namespace: TopicNamespace?) async {
        services.registry.subscribe(connection, to: topic)
        await services.bus.subscribe(topic: topic, nodeID: services.configuration.nodeID)
        if namespace?.joins == true { announce(Self.joinKind, topic) }
        guard namespace?.presence == true else { return }
        do {
            try await services.topicPresence.join(topic: topic, presenceEntry)
        } catch {
            services.metrics.presenceErrors.increment()
            logger.warning("topic presence not written; the subscription works", metadata: ["topic": "\(topic)", "error": "\(error)"])
        }
    }

    private var presenceEntry: PresenceEntry { PresenceEntry(user: connection.user, connection: connection.id) }

    /// A backend's subscribe or unsubscribe (Gateway API), in turn with the client's
    /// frames: no namespace rule applies, and a connection takes up to twice its own limit
    /// in all (the backend's part is bounded per user where it is stored). Nothing for a
    /// connection that has closed meanwhile.
    func serverTopic(_ topic: String, subscribe: Bool) async {
        guard services.registry.connection(connection.id) != nil else { return }
        guard subscribe else {
            if connection.topics.remove(topic) { await leave(topic) }
            return
        }
        switch connection.topics.add(topic, limit: 2 * services.configuration.topicsPerConnection) {
        case .added:
            await join(topic, services.configuration.topicNamespaces.rules(for: topic))
        case .already:
            break
        case .full:
            logger.warning("a backend's subscription was not made: the connection is at twice its topic limit", metadata: ["topic": "\(topic)"])
        }
    }

    /// At connect: the topics backends subscribed the user to. Read failing (Redis down)
    /// starts the connection without them, and says so in the log.
    func storedTopics() async -> [String] {
        do {
            return try await services.userTopics.topics(of: connection.user)
        } catch {
            logger.warning("the user's server-side subscriptions could not be read; the connection starts without them", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// Before the welcome: subscribes the connection to `stored`; the topics it holds now.
    func restore(_ stored: [String]) async -> [String] {
        var restored: [String] = []
        for topic in stored {
            await serverTopic(topic, subscribe: true)
            if connection.topics.contains(topic) { restored.append(topic) }
        }
        return restored
    }

    /// Unsubscribing from a topic the connection is not subscribed to is not an error.
    /// In a namespace that keeps presence it is handled in the session's task, after any
    /// subscribe before it, so that presence is withdrawn after it was written; elsewhere
    /// on the connection's event loop (`unsubscribeNow`).
    func unsubscribe(_ request: Switchboard_V1_UnsubscribeRequest, id: String) async {
        guard let was = unsubscribing(request, id: id) else { return }
        if was { await leave(request.topic) }
        answerUnsubscribe(request.topic, was: was, id: id)
    }

    /// `unsubscribe` for a topic whose namespace keeps no presence: nothing to await.
    func unsubscribeNow(_ request: Switchboard_V1_UnsubscribeRequest, id: String) {
        guard let was = unsubscribing(request, id: id) else { return }
        if was { leaveHere(request.topic) }
        answerUnsubscribe(request.topic, was: was, id: id)
    }

    /// Whether the namespace of `topic` keeps topic presence.
    func keepsPresence(_ topic: String) -> Bool {
        services.configuration.topicNamespaces.rules(for: topic)?.presence == true
    }

    /// Whether the connection was subscribed (now it is not); nil with the problem answered.
    private func unsubscribing(_ request: Switchboard_V1_UnsubscribeRequest, id: String) -> Bool? {
        if let problem = TopicName.problem(request.topic) {
            reply(to: id, error: .invalidArgument, "unsubscribe.topic: \(problem)")
            return nil
        }
        return connection.topics.remove(request.topic)
    }

    private func answerUnsubscribe(_ topic: String, was: Bool, id: String) {
        reply(to: id, ok: .init(structValue: ["topic": .init(stringValue: topic), "wasSubscribed": .init(boolValue: was)]))
    }

    /// Ends one subscription here and, for the node's last subscriber, in the cluster; and
    /// its topic presence, when the namespace keeps it.
    func leave(_ topic: String) async {
        leaveHere(topic)
        guard keepsPresence(topic) else { return }
        do {
            try await services.topicPresence.leave(topic: topic, presenceEntry)
        } catch {
            services.metrics.presenceErrors.increment()
            logger.warning("topic presence not withdrawn", metadata: ["topic": "\(topic)", "error": "\(error)"])
        }
    }

    /// `leave` without topic presence: the node's map, the cluster's interest, the leave push.
    private func leaveHere(_ topic: String) {
        services.registry.unsubscribe(connection, from: topic)
        services.bus.unsubscribe(topic: topic, nodeID: services.configuration.nodeID)
        if services.configuration.topicNamespaces.rules(for: topic)?.joins == true { announce(Self.leaveKind, topic) }
    }

    /// Who is subscribed to `topic`, for a client that may subscribe to it, in a namespace
    /// that keeps presence: users with their connections, at most `presence-limit`
    /// connections, and how many there are in all.
    func lookUpPresence(topic: String, id: String) async {
        guard let namespace = await allowed(\.subscribe, on: topic, field: "presence", id: id) else { return }
        guard namespace.presence else {
            return reply(to: id, error: .invalidArgument, "presence.topic: namespace '\(namespace.name)' keeps no presence (its presence=on option)")
        }
        do {
            let found = try await services.topicPresence.lookup(topic: topic, limit: services.configuration.presenceLimit)
            var order: [String] = []
            var byUser: [String: [Google_Protobuf_Value]] = [:]
            for entry in found.entries {
                if byUser[entry.user] == nil { order.append(entry.user) }
                byUser[entry.user, default: []].append(.init(structValue: [
                    "id": .init(stringValue: entry.connection.description), "node": .init(stringValue: entry.nodeID),
                ]))
            }
            let users = order.map { user -> Google_Protobuf_Value in
                .init(structValue: ["user": .init(stringValue: user), "connections": .init(listValue: .init(values: byUser[user] ?? []))])
            }
            reply(to: id, ok: .init(structValue: [
                "topic": .init(stringValue: topic),
                "users": .init(listValue: .init(values: users)),
                "count": .init(numberValue: Double(found.total)),
            ]))
        } catch {
            services.metrics.presenceErrors.increment()
            reply(to: id, .unavailable, "presence is unavailable; retry", incident: error)
        }
    }

    static let joinKind = "switchboard.join"
    static let leaveKind = "switchboard.leave"

    /// Tells the topic's other subscribers that this connection joined or left: a push
    /// from the node (origin backend) caused by the user, so a storm of joins is shed by
    /// slow subscribers like the user's own messages. Its outcome is nobody's answer.
    private func announce(_ kind: String, _ topic: String) {
        let data = Google_Protobuf_Value(structValue: .init(fields: [
            "user": .init(stringValue: connection.user), "connection": .init(stringValue: connection.id.description),
        ]))
        guard var push = try? PushPayload(from: "switchboard", kind: kind, value: data, origin: .backend) else { return }
        push.causedBy = connection.user
        push.topic = topic
        let logger = self.logger
        services.delivery.push(push, to: .topic(topic, except: connection.id)) { result in
            if case .failure(let error) = result { logger.debug("\(kind) not relayed", metadata: ["topic": "\(topic)", "error": "\(error)"]) }
        }
    }

    /// Whether a publish can be decided on the event loop: its namespace does not ask the
    /// authorizer, or the authorizer's answer is cached.
    func publishDecidesNow(_ request: Switchboard_V1_PublishRequest) -> Bool {
        guard let namespace = services.configuration.topicNamespaces.rules(for: request.topic), namespace.publish == .backend else { return true }
        return services.topicAuthorizer.cached(user: connection.user, topic: request.topic, action: .publish) != nil
    }

    /// A publish that waits for the authorizer first (`publishDecidesNow` was false).
    func publishAfterAuthorizing(_ request: Switchboard_V1_PublishRequest, id: String) async {
        guard let namespace = await allowed(\.publish, on: request.topic, field: "publish", id: id) else { return }
        await withCheckedContinuation { continuation in publish(request, id: id, allowedIn: namespace) { continuation.resume() } }
    }

    /// Routes the publish and answers once its outcome is known (a topic with no
    /// subscribers is not an error: `delivered` and `relayedNodes` are 0); `done` runs then.
    /// `allowedIn`: the namespace, when the publish was allowed already.
    func publish(_ request: Switchboard_V1_PublishRequest, id: String, allowedIn: TopicNamespace? = nil, done: @escaping @Sendable () -> Void) {
        let topic = request.topic
        guard let namespace = allowedIn ?? allowedNow(\.publish, on: topic, field: "publish", id: id) else { return done() }
        if ReservedKinds.isReserved(request.kind) {
            reply(to: id, error: .invalidArgument, "publish.kind: '\(request.kind.prefix(64))' is reserved for backends (docs/protocol.md)")
            return done()
        }
        var push: PushPayload
        do {
            push = try PushPayload(from: connection.user, kind: request.kind.isEmpty ? "message" : request.kind, value: request.data)
        } catch {
            metrics.badFrames.increment()
            reply(to: id, error: .invalidArgument, "publish.data: \(error)")
            return done()
        }
        push.topic = topic
        let session = self
        let audience = PushAudience.topic(topic, except: namespace.echo ? nil : connection.id)
        services.delivery.push(push, to: audience, history: namespace.history) { result in
            switch result {
            case .success(let outcome): session.reply(to: id, outcome)
            case .failure(let error): session.reply(to: id, .unavailable, error.publicDescription, incident: error)
            }
            done()
        }
    }

    /// The namespace of `topic` when the connection may do what `permission` names there;
    /// nil, with the refusal answered, when the name is invalid, in no namespace, or not
    /// allowed — by the namespace's rule or by the authorizer backend, asked here.
    private func allowed(_ permission: KeyPath<TopicNamespace, TopicPermission>, on topic: String, field: String, id: String) async -> TopicNamespace? {
        guard let namespace = namespace(of: topic, field: field, id: id) else { return nil }
        guard namespace[keyPath: permission] == .backend else { return allowedNow(permission, on: topic, field: field, id: id) }
        let action: TopicAuthorizer.Action = permission == \TopicNamespace.subscribe ? .subscribe : .publish
        switch await services.topicAuthorizer.authorize(user: connection.user, connection: connection.id.description, topic: topic, action: action) {
        case .decided(.allowed):
            return namespace
        case .decided(.denied(let reason)):
            reply(to: id, error: .permissionDenied, "\(field): \(reason.isEmpty ? "the topic authorizer refused" : reason)")
        case .unavailable(let why, let retryAfter):
            reply(to: id, error: .unavailable, "\(field): \(why); refused, retry", retryAfter: retryAfter)
        }
        return nil
    }

    /// The namespace of a valid `topic`, or nil with the problem answered.
    private func namespace(of topic: String, field: String, id: String) -> TopicNamespace? {
        if let problem = TopicName.problem(topic) {
            reply(to: id, error: .invalidArgument, "\(field).topic: \(problem)")
            return nil
        }
        guard let namespace = services.configuration.topicNamespaces.rules(for: topic) else {
            reply(to: id, error: .invalidArgument, "\(field).topic: '\(topic)' is in no namespace this node has (its topic-namespaces setting)")
            return nil
        }
        return namespace
    }

    /// `allowed` without waiting: an authorizer's answer is taken from its cache (none
    /// there, which `publishDecidesNow` rules out, is answered unavailable).
    private func allowedNow(_ permission: KeyPath<TopicNamespace, TopicPermission>, on topic: String, field: String, id: String) -> TopicNamespace? {
        guard let namespace = namespace(of: topic, field: field, id: id) else { return nil }
        let rule = namespace[keyPath: permission]
        if rule == .backend {
            let action: TopicAuthorizer.Action = permission == \TopicNamespace.subscribe ? .subscribe : .publish
            switch services.topicAuthorizer.cached(user: connection.user, topic: topic, action: action) {
            case .allowed?: return namespace
            case .denied(let reason)?:
                reply(to: id, error: .permissionDenied, "\(field): \(reason.isEmpty ? "the topic authorizer refused" : reason)")
            case nil:
                reply(to: id, error: .unavailable, "\(field): the topic authorizer's answer expired; retry")
            }
            return nil
        }
        guard TopicNamespace.allows(rule, topic, grants: connection.topics.grants) else {
            let why = switch rule {
            case .none: "namespace '\(namespace.name)' lets only backends \(field)"
            default: "namespace '\(namespace.name)' needs a token whose topics claim grants '\(topic)' to \(field)"
            }
            reply(to: id, error: .permissionDenied, "\(field): \(why)")
            return nil
        }
        return namespace
    }
}
