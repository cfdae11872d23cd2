/// What relay needs of a subscription, one Redis (`RedisSubscriber`) or a cluster's shards
/// (`RedisClusterSubscriber`): start, stop, follow what is wanted, and say whether every
/// connection is subscribed.
package protocol RedisChannelSubscriber: Sendable {
    var isSubscribed: Bool { get }
    func start()
    func stop()
    /// Subscribes to `channel` when it is wanted now, else unsubscribes.
    func refresh(_ channel: String)
}

extension RedisSubscriber: RedisChannelSubscriber {}
