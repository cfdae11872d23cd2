/// Relay's Redis pub/sub channels, under the cluster's key prefix. docs/redis.md lists them.
package struct RelayChannels: Sendable {
    package let prefix: String

    package init(prefix: String) {
        self.prefix = prefix
    }

    /// Pushes for one user: every node holding one of the user's connections subscribes.
    package func user(_ user: String) -> String { "\(prefix)relay:user:\(user)" }
    /// The user whose channel `channel` is, if it is one.
    package func userOf(_ channel: String) -> String? {
        let head = "\(prefix)relay:user:"
        return channel.hasPrefix(head) ? String(channel.dropFirst(head.count)) : nil
    }

    /// Relay messages for one node (pushes to one of its connections).
    package func node(_ node: String) -> String { "\(prefix)relay:node:\(node)" }
    /// A user's inbox of durable pushes (a stream) and its epoch (a string), both
    /// expiring together; not channels, but named by the same prefix and user.
    package func inbox(_ user: String) -> String { "\(prefix)inbox:\(user)" }
    package func inboxEpoch(_ user: String) -> String { "\(prefix)inbox-epoch:\(user)" }

    /// What every node listens to.
    package var broadcast: String { "\(prefix)broadcast" }
}
