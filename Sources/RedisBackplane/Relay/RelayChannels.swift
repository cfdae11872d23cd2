import Essentials

/// Relay's Redis pub/sub channels, under the cluster's key prefix. docs/redis.md lists them.
///
/// `hashTagged` (a Redis Cluster): the user's or node's name is written as a `{hash tag}`,
/// so a user's channel and inbox share the user's slot (one script touches both) and a
/// node's channel lives on the node's.
package struct RelayChannels: Sendable {
    package let prefix: String
    package let hashTagged: Bool

    package init(prefix: String, hashTagged: Bool = false) {
        self.prefix = prefix
        self.hashTagged = hashTagged
    }

    private func tag(_ name: String) -> String { hashTagged ? RedisHashTag.wrap(name) : name }

    /// Pushes for one user: every node holding one of the user's connections subscribes.
    package func user(_ user: String) -> String { "\(prefix)relay:user:\(tag(user))" }
    /// The user whose channel `channel` is, if it is one.
    package func userOf(_ channel: String) -> String? {
        name(in: channel, after: "\(prefix)relay:user:")
    }

    /// Pushes published to one topic: every node with a connection subscribed subscribes.
    /// On a Redis Cluster the topic's name is its hash tag, so its channel lives in the
    /// topic's slot and a publish crosses that shard only.
    package func topic(_ topic: String) -> String { "\(prefix)relay:topic:\(tag(topic))" }
    /// The topic whose channel `channel` is, if it is one.
    package func topicOf(_ channel: String) -> String? {
        name(in: channel, after: "\(prefix)relay:topic:")
    }

    private func name(in channel: String, after head: String) -> String? {
        guard channel.hasPrefix(head) else { return nil }
        let name = channel.dropFirst(head.count)
        guard hashTagged else { return String(name) }
        return RedisHashTag.unwrap(name)
    }

    /// Relay messages for one node (pushes to one of its connections).
    package func node(_ node: String) -> String { "\(prefix)relay:node:\(tag(node))" }
    /// A user's inbox of durable pushes (a stream) and its epoch (a string), both
    /// expiring together; not channels, but named by the same prefix and user.
    package func inbox(_ user: String) -> String { "\(prefix)inbox:\(tag(user))" }
    package func inboxEpoch(_ user: String) -> String { "\(prefix)inbox-epoch:\(tag(user))" }
    /// How many entries of a user's inbox each other user holds (a hash), expiring with it.
    package func inboxSources(_ user: String) -> String { "\(prefix)inbox-sources:\(tag(user))" }

    /// A topic's history of publishes (a stream) and its epoch (a string), in namespaces
    /// that keep history; in the topic's slot, beside its channel.
    package func topicHistory(_ topic: String) -> String { "\(prefix)topic-history:\(tag(topic))" }
    package func topicHistoryEpoch(_ topic: String) -> String { "\(prefix)topic-epoch:\(tag(topic))" }

    /// The topics backends subscribed a user to (a set), for the user's next connects.
    package func userTopics(_ user: String) -> String { "\(prefix)user-topics:\(tag(user))" }

    /// What every node listens to.
    package var broadcast: String { "\(prefix)broadcast" }
}
