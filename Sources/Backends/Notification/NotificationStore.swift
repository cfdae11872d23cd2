import SwitchboardProtocol

/// Each user's notifications, in memory, newest last.
actor NotificationStore {
    private var byUser: [String: [Switchboard_Notification_V1_Notification]] = [:]
    private var sequence: UInt64 = 0

    static let maxPerUser = 500

    func create(for user: String, title: String, body: String, at time: Int64) -> Switchboard_Notification_V1_Notification {
        sequence += 1
        var notification = Switchboard_Notification_V1_Notification()
        notification.id = "n\(sequence)"
        notification.title = title
        notification.body = body
        notification.createdAtMs = time
        byUser[user, default: []].append(notification)
        // Bounded per user: the oldest go first.
        if let count = byUser[user]?.count, count > Self.maxPerUser { byUser[user]?.removeFirst(count - Self.maxPerUser) }
        return notification
    }

    func list(for user: String, unreadOnly: Bool) -> [Switchboard_Notification_V1_Notification] {
        (byUser[user] ?? []).reversed().filter { !unreadOnly || !$0.read }
    }

    /// Marks the given ids (all when empty) read; returns how many changed.
    func markRead(for user: String, ids: Set<String>) -> Int {
        guard var notifications = byUser[user] else { return 0 }
        var changed = 0
        for index in notifications.indices where !notifications[index].read && (ids.isEmpty || ids.contains(notifications[index].id)) {
            notifications[index].read = true
            changed += 1
        }
        byUser[user] = notifications
        return changed
    }
}
