/// Relay's Redis pub/sub channels, under the cluster's key prefix. docs/redis.md lists them.
public struct RelayChannels: Sendable {
    public let prefix: String

    public init(prefix: String) {
        self.prefix = prefix
    }

    /// Relay messages for one node.
    public func node(_ node: String) -> String { "\(prefix)relay:\(node)" }
    /// What every node listens to.
    public var broadcast: String { "\(prefix)broadcast" }
}
