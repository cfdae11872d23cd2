/// Relay's Redis pub/sub channels, under the cluster's key prefix. docs/redis.md lists them.
package struct RelayChannels: Sendable {
    package let prefix: String

    package init(prefix: String) {
        self.prefix = prefix
    }

    /// Relay messages for one node.
    package func node(_ node: String) -> String { "\(prefix)relay:\(node)" }
    /// What every node listens to.
    package var broadcast: String { "\(prefix)broadcast" }
}
