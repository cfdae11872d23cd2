import SwitchboardProtocol

/// Conversations in memory, keyed by the pair of users.
actor ChatStore {
    private var conversations: [String: [Switchboard_Chat_V1_ChatMessage]] = [:]
    private var sequence: UInt64 = 0

    func append(from: String, to: String, text: String, at time: Int64) -> Switchboard_Chat_V1_ChatMessage {
        sequence += 1
        var message = Switchboard_Chat_V1_ChatMessage()
        message.id = "m\(sequence)"
        message.from = from
        message.to = to
        message.text = text
        message.sentAtMs = time
        conversations[Self.key(from, to), default: []].append(message)
        return message
    }

    /// The last `limit` messages between two users, oldest first.
    func history(between a: String, and b: String, limit: Int) -> [Switchboard_Chat_V1_ChatMessage] {
        Array((conversations[Self.key(a, b)] ?? []).suffix(limit))
    }

    private static func key(_ a: String, _ b: String) -> String {
        a < b ? "\(a)\u{0}\(b)" : "\(b)\u{0}\(a)"
    }
}
