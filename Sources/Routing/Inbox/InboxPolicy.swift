/// Which pushes are kept in users' inboxes, and for how long.
package struct InboxPolicy: Sendable, Equatable {
    /// Kinds whose pushes to a user are durable unless the Gateway API call says otherwise.
    package var durableKinds: Set<String>
    /// Entries an inbox keeps at most: older ones are trimmed as new ones arrive.
    package var maxLength: Int
    /// How long an inbox lives after its last durable push.
    package var ttl: Duration

    package init(durableKinds: Set<String> = ["chat.message", "notification"], maxLength: Int = 1000, ttl: Duration = .seconds(24 * 3600)) {
        self.durableKinds = durableKinds
        self.maxLength = maxLength
        self.ttl = ttl
    }

    /// Entries of one inbox one user may hold (a quarter of it): past that, a user's pushes
    /// (sends, or backend pushes their calls caused) replace that user's own oldest, or are
    /// delivered live only — one user never pushes more than this of others' entries out.
    package var sourceShare: Int { max(1, maxLength / 4) }

    /// Whether a push of `kind` is kept: as `requested` (the Gateway API's `durable`), else by kind.
    package func isDurable(kind: String, requested: Bool? = nil) -> Bool {
        requested ?? durableKinds.contains(kind)
    }

    /// Epoch names: short, and never containing ':' (the text form of a position).
    package static func makeEpoch() -> String {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)
        return String(decoding: (0..<8).map { _ in alphabet.randomElement()! }, as: UTF8.self)
    }
}
