public import SwiftProtobuf
import SwitchboardWire
import Synchronization

/// Topics (docs/protocol.md § Topics): a topic's pushes arrive on `pushes` with `topic`
/// set. A subscription lasts until `unsubscribe` or `close`: after every reconnect the
/// client subscribes again by itself.
extension SwitchboardClient {
    /// Subscribes to `topic`; throws the node's refusal (`permission_denied`,
    /// `limit_exceeded`, `invalid_argument`). Once it returns, a publish sent anywhere
    /// reaches this client.
    public func subscribe(to topic: String, timeout: Duration? = nil) async throws {
        var frame = Switchboard_V1_ClientFrame()
        frame.subscribe.topic = topic
        _ = try await exchange(frame, timeout: timeout)
        core.withLock { _ = $0.topics.insert(topic) }
    }

    /// Ends the subscription (at once when not connected: the node forgot it with the connection).
    public func unsubscribe(from topic: String, timeout: Duration? = nil) async throws {
        let connected = core.withLock { core in
            core.topics.remove(topic)
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
                var frame = Switchboard_V1_ClientFrame()
                frame.subscribe.topic = topic
                do {
                    _ = try await exchange(frame, timeout: nil)
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
