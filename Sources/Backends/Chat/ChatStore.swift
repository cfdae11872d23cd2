import SwitchboardProtocol

/// Conversations in memory, keyed by the pair of users, each bounded: the last
/// `maxHistory` messages of a pair are kept, so no sender can grow the store without end.
actor ChatStore {
    static let maxHistory = 500
    static let maxTextBytes = 4096

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
        let key = Self.key(from, to)
        conversations[key, default: []].append(message)
        if let count = conversations[key]?.count, count > Self.maxHistory {
            conversations[key]?.removeFirst(count - Self.maxHistory)
        }
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
