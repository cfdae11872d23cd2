/// Push kinds only backends may use: a client's `send` with one is refused, so that a
/// user's message can never pass for a backend's push by its kind (`origin` tells them
/// apart as well). Listed in docs/protocol.md.
enum ReservedKinds {
    /// A kind is reserved when it starts with one of these.
    static let prefixes = ["chat.", "location.", "notification", "switchboard.", "system."]

    static func isReserved(_ kind: String) -> Bool {
        !kind.isEmpty && prefixes.contains { kind.hasPrefix($0) }
    }
}
