public import SwiftProtobuf
import SwitchboardWire
import Synchronization

/// Topics (docs/protocol.md § Topics): a topic's pushes arrive on `pushes` with `topic`
/// set. A subscription lasts until `unsubscribe` or `close`: after every reconnect the
/// client subscribes again by itself.
extension SwitchboardClient {
    /// Subscribes to `topic`; throws the node's refusal (`permission_denied`,
    /// `limit_exceeded`, `invalid_argument`). Once it returns, a publish sent anywhere
    /// reaches this client. In a namespace that keeps history it answers where the topic
    /// stands; `since` (a position seen before, e.g. saved from `position(of:)`) asks for
    /// what was published after it, which arrives on `pushes` before anything newer.
    @discardableResult
    public func subscribe(to topic: String, since: InboxPosition? = nil, timeout: Duration? = nil) async throws -> TopicSubscribed? {
        core.withLock { core in
            if let since { core.topicPositions[topic] = since }
        }
        let answered = try await subscribeFrame(topic, timeout: timeout)
        core.withLock { _ = $0.topics.insert(topic) }
        return answered
    }

    /// The last position seen of `topic`, when its namespace keeps history.
    public func position(of topic: String) -> InboxPosition? {
        core.withLock { $0.topicPositions[topic] }
    }

    /// Sends a subscribe (with the last position seen of the topic, if any) and takes the
    /// answer's position unless pushes read meanwhile went past it.
    private func subscribeFrame(_ topic: String, timeout: Duration?) async throws -> TopicSubscribed? {
        var frame = Switchboard_V1_ClientFrame()
        frame.subscribe.topic = topic
        if let since = core.withLock({ $0.topicPositions[topic] }) {
            frame.subscribe.since = .with { $0.epoch = since.epoch; $0.offset = since.offset }
        }
        let ok = try await exchange(frame, timeout: timeout).ok.structValue.fields
        guard let fields = ok["position"]?.structValue.fields else {
            core.withLock { _ = $0.topicPositions.removeValue(forKey: topic) }
            return nil
        }
        let position = InboxPosition(epoch: fields["epoch"]?.stringValue ?? "", offset: UInt64(fields["offset"]?.numberValue ?? 0))
        core.withLock { core in
            if let seen = core.topicPositions[topic], seen.epoch == position.epoch, seen.offset > position.offset { return }
            core.topicPositions[topic] = position
        }
        return TopicSubscribed(
            position: position, replayed: Int(ok["replayed"]?.numberValue ?? 0), recovered: ok["recovered"].map(\.boolValue)
        )
    }

    /// Ends the subscription (at once when not connected: the node forgot it with the connection).
    public func unsubscribe(from topic: String, timeout: Duration? = nil) async throws {
        let connected = core.withLock { core in
            core.topics.remove(topic)
            core.topicPositions[topic] = nil
            return core.state == .open
        }
        guard connected else { return }
        var frame = Switchboard_V1_ClientFrame()
        frame.unsubscribe.topic = topic
        _ = try await exchange(frame, timeout: timeout)
    }

    /// Who is subscribed to `topic` (a namespace with `presence=on`; asking needs the right
    /// to subscribe, not a subscription).
    public func presence(ofTopic topic: String, timeout: Duration? = nil) async throws -> TopicPresenceAnswer {
        var frame = Switchboard_V1_ClientFrame()
        frame.presence.topic = topic
        let ok = try await exchange(frame, timeout: timeout).ok.structValue.fields
        let users = ok["users"]?.listValue.values.map { value -> TopicPresenceAnswer.Member in
            let fields = value.structValue.fields
            return TopicPresenceAnswer.Member(
                user: fields["user"]?.stringValue ?? "",
                connections: fields["connections"]?.listValue.values.map(PresenceAnswer.Connection.init) ?? []
            )
        } ?? []
        return TopicPresenceAnswer(topic: ok["topic"]?.stringValue ?? topic, users: users, count: Int(ok["count"]?.numberValue ?? 0))
    }

    /// The topics this client is subscribed to.
    public var subscriptions: Set<String> { core.withLock { $0.topics } }

    /// Delivers `data` to every connection subscribed to `topic`, on every node; the
    /// outcome counts them (0 and 0: nobody is subscribed).
    public func publish(to topic: String, data: Google_Protobuf_Value, kind: String? = nil, timeout: Duration? = nil) async throws -> SendOutcome {
        var frame = Switchboard_V1_ClientFrame()
        frame.publish.topic = topic
        frame.publish.data = data
        if let kind { frame.publish.kind = kind }
        return SendOutcome(ok: try await exchange(frame, timeout: timeout).ok.structValue.fields)
    }

    /// After a welcome: every subscription again. One the node now refuses ends, and
    /// `resyncs` says so; one cut short by another disconnect is tried at the next welcome.
    func resubscribe() {
        let topics = core.withLock { $0.topics }
        guard !topics.isEmpty else { return }
        Task {
            for topic in topics {
                do {
                    if try await subscribeFrame(topic, timeout: nil)?.recovered == false {
                        resyncSink.yield("the history of \(topic) no longer reaches back to the last position seen; fetch current state from the backends")
                    }
                } catch let error as SwitchboardClientError where error.code != "disconnected" && error.code != "timeout" && error.code != "closed" {
                    core.withLock { _ = $0.topics.remove(topic) }
                    resyncSink.yield("the subscription to \(topic) ended: the node refused it again (\(error.code): \(error.message))")
                } catch {
                    return
                }
            }
        }
    }
}
