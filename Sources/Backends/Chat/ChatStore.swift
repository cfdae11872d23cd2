import SwitchboardProtocol

/// Conversations in memory, keyed by the pair of users, bounded both ways: the last
/// `maxHistory` messages of a pair, and the `maxConversations` most recently active pairs
/// (a sender writing to made-up names evicts the quietest conversations, a tenth at a
/// time), so no sender can grow the store without end.
actor ChatStore {
    static let maxHistory = 500
    static let maxTextBytes = 4096

    let maxConversations: Int
    private var conversations: [String: [Switchboard_Chat_V1_ChatMessage]] = [:]
    /// The sequence number of each conversation's latest message.
    private var lastActive: [String: UInt64] = [:]
    private var sequence: UInt64 = 0

    init(maxConversations: Int = 10_000) {
        self.maxConversations = max(maxConversations, 1)
    }

    var conversationCount: Int { conversations.count }

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
        lastActive[key] = sequence
        if conversations.count > maxConversations { evictQuietest() }
        return message
    }

    /// The last `limit` messages between two users, oldest first.
    func history(between a: String, and b: String, limit: Int) -> [Switchboard_Chat_V1_ChatMessage] {
        Array((conversations[Self.key(a, b)] ?? []).suffix(limit))
    }

    private func evictQuietest() {
        let evicted = lastActive.sorted { $0.value < $1.value }.prefix(max(maxConversations / 10, 1))
        for (key, _) in evicted {
            conversations[key] = nil
            lastActive[key] = nil
        }
    }

    private static func key(_ a: String, _ b: String) -> String {
        a < b ? "\(a)\u{0}\(b)" : "\(b)\u{0}\(a)"
    }
}
