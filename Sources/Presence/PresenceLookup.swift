/// A user's connections as a lookup found them: at most the asked-for number of entries,
/// and how many there are in all.
package struct PresenceLookup: Sendable, Equatable {
    package let entries: [PresenceEntry]
    package let total: Int

    package init(entries: [PresenceEntry], total: Int) {
        self.entries = entries
        self.total = total
    }
}
