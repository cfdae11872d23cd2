import Essentials
import Routing

/// What this node knows, for each user it holds, about the other nodes holding the user
/// too — so that a push to a user held here alone is delivered without a PUBLISH.
///
/// Kept by the exchange on the user's channel (`RedisRelayBus`): a node that starts
/// holding a user publishes JOINED once subscribed; PUBLISH's answer says how many others
/// hold the user, and each of them answers HERE (learning of the newcomer first). A node
/// leaving publishes LEFT. Until the newcomer has heard from every other holder it is
/// not `ready` (its client's welcome waits for that), so anything the client does after
/// its welcome finds every holder knowing of every other. What is not known for sure —
/// before the exchange, after the subscriber reconnects (messages may have been lost), a
/// node that crashed — means publishing: a stale entry costs a PUBLISH, never a push.
package final class HolderBook: Sendable {
    /// One per user held here, so kept to 16 bytes.
    private struct Entry {
        /// Other nodes known to hold the user.
        var others: Set<String> = []
        /// This node's connections of the user.
        var connections: UInt32 = 0
        /// Other holders that PUBLISH counted but that have not said HERE yet.
        var unheard: UInt16 = 0
        /// The answer to this node's JOINED has arrived (since the last reset).
        var settled = false

        var ready: Bool { settled && unheard == 0 }
    }

    /// Sharded by user: senders on every event loop ask it at each send.
    private let entries = ShardedLock<[String: Entry]>(count: 64) { [:] }

    package init() {}

    /// One more connection of `user`; true when it is the first.
    package func hold(_ user: String) -> Bool {
        entries.withLock(for: user) { entries in
            entries[user, default: Entry()].connections += 1
            return entries[user]?.connections == 1
        }
    }

    /// One connection of `user` fewer; true when it was the last.
    package func release(_ user: String) -> Bool {
        entries.withLock(for: user) { entries in
            guard var entry = entries[user] else { return false }
            entry.connections -= 1
            if entry.connections > 0 {
                entries[user] = entry
                return false
            }
            entries[user] = nil
            return true
        }
    }

    /// Whether a push to `user` must be published: unless this node holds the user and
    /// knows for sure that no other node does.
    package func mustPublish(_ user: String) -> Bool {
        entries.withLock(for: user) { entries in
            guard let entry = entries[user] else { return true }
            return !(entry.ready && entry.others.isEmpty)
        }
    }

    /// The answer to this node's JOINED: `receivers` subscribers (this node among them).
    /// True when the user is ready (every other holder has said HERE).
    package func joined(_ user: String, receivers: Int) -> Bool {
        entries.withLock(for: user) { entries in
            guard var entry = entries[user] else { return true }
            entry.unheard = UInt16(clamping: max(receivers - 1 - entry.others.count, 0))
            entry.settled = true
            entries[user] = entry
            return entry.ready
        }
    }

    /// Another node's JOINED or HERE. Returns whether the user became ready with it.
    package func heard(_ node: String, holds user: String) -> Bool {
        entries.withLock(for: user) { entries in
            guard var entry = entries[user] else { return false }
            let wasReady = entry.ready
            if entry.others.insert(node).inserted, entry.unheard > 0 { entry.unheard -= 1 }
            entries[user] = entry
            return !wasReady && entry.ready
        }
    }

    /// Another node no longer holds `user`.
    package func heard(_ node: String, left user: String) {
        entries.withLock(for: user) { entries in
            _ = entries[user]?.others.remove(node)
        }
    }

    /// A publish to `user` reached `receivers` subscribers, this node's among them: when
    /// that is this node alone, every other holder it remembered is gone (crashed).
    package func published(to user: String, receivers: Int) {
        guard receivers == 1 else { return }
        entries.withLock(for: user) { entries in
            guard var entry = entries[user], entry.settled, !entry.others.isEmpty || entry.unheard > 0 else { return }
            entry.others = []
            entry.unheard = 0
            entries[user] = entry
        }
    }

    /// Forgets what was heard: the subscriber reconnected, and messages may have been lost
    /// meanwhile. Every user (or each `affected` one: a cluster shard's subscription broke)
    /// publishes until its exchange is done again.
    package func reset(where affected: (String) -> Bool = { _ in true }) {
        entries.forEach { entries in
            for user in entries.keys where affected(user) {
                entries[user]?.others = []
                entries[user]?.unheard = 0
                entries[user]?.settled = false
            }
        }
    }

    /// Whether `user` is held here and every other holder has been heard from.
    package func isReady(_ user: String) -> Bool {
        entries.withLock(for: user) { $0[user]?.ready ?? false }
    }

    package func holds(_ user: String) -> Bool {
        entries.withLock(for: user) { $0[user] != nil }
    }

    /// Every user held here (what the subscriber subscribes to after a reconnect).
    package func users() -> [String] {
        var users: [String] = []
        entries.forEach { entries in users += entries.keys }
        return users
    }
}
