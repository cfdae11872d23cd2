package import Essentials

/// A cluster's `MOVED <slot> <host>:<port>` (the slot lives elsewhere now: send there and
/// learn the topology again) or `ASK <slot> <host>:<port>` (the slot is migrating: send
/// this one command there, after ASKING).
package struct RedisRedirect: Equatable, Sendable {
    package enum Kind: Sendable { case moved, ask }

    package let kind: Kind
    package let slot: Int
    package let address: HostAndPort

    /// Nil when `message` (an error reply) is not a redirect.
    package init?(_ message: String) {
        let parts = message.split(separator: " ")
        guard parts.count == 3, let slot = Int(parts[1]), (0..<RedisHashSlot.count).contains(slot),
              let address = HostAndPort(parts[2]) else { return nil }
        switch parts[0] {
        case "MOVED": kind = .moved
        case "ASK": kind = .ask
        default: return nil
        }
        self.slot = slot
        self.address = address
    }
}
