/// How much of a topic's publishes its namespace keeps, and how long after the latest
/// (`history=N`, `history-ttl=S`): a subscriber that comes back with its position gets
/// what it missed, in order, none twice.
package struct TopicHistory: Sendable, Equatable {
    /// Publishes kept at most: older ones are trimmed as new ones arrive.
    package var maxLength: Int
    /// How long the history lives after its latest publish or subscribe.
    package var ttl: Duration

    package static let defaultTTL: Duration = .seconds(24 * 3600)
    /// The most a namespace may keep per topic.
    package static let maxLengthLimit = 10_000

    package init(maxLength: Int, ttl: Duration = defaultTTL) {
        self.maxLength = maxLength
        self.ttl = ttl
    }
}
