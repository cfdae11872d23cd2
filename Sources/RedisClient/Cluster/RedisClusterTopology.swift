package import Essentials

/// Which primary serves each of the 16384 slots, from `CLUSTER SLOTS`; immutable, so a
/// refresh swaps in a new one while commands read the old.
package struct RedisClusterTopology: Equatable, Sendable {
    /// One primary and its replicas, with the slots it serves.
    package struct Shard: Equatable, Sendable {
        package var primary: HostAndPort
        package var replicas: [HostAndPort]
        package var ranges: [ClosedRange<Int>]

        package func owns(slot: Int) -> Bool {
            ranges.contains { $0.contains(slot) }
        }
    }

    package let shards: [Shard]
    /// Slot → index in `shards`; `Self.unowned` when no shard serves it.
    private let owners: [UInt16]
    private static let unowned = UInt16.max

    package init(shards: [Shard]) {
        var owners = [UInt16](repeating: Self.unowned, count: RedisHashSlot.count)
        // Every shard owns a slot at least, so past 16384 of them none can own one alone.
        for (index, shard) in shards.prefix(RedisHashSlot.count).enumerated() {
            for range in shard.ranges {
                for slot in range.clamped(to: 0...(RedisHashSlot.count - 1)) { owners[slot] = UInt16(index) }
            }
        }
        self.shards = shards
        self.owners = owners
    }

    /// Parses a `CLUSTER SLOTS` reply; an empty host means the node that was asked (`asked`).
    /// Ranges served by one primary are gathered into one shard. Nil when the reply is
    /// not that shape, or has more ranges than there are slots, or ports no TCP port is.
    package init?(clusterSlots reply: RedisReply, asked: HostAndPort) {
        guard let entries = reply.array, entries.count <= RedisHashSlot.count else { return nil }
        var shards: [Shard] = []
        for entry in entries {
            guard let parts = entry.array, parts.count >= 3, let start = parts[0].integer, let end = parts[1].integer, start <= end,
                  let primary = Self.address(parts[2], asked: asked)
            else { return nil }
            let replicas = parts.dropFirst(3).compactMap { Self.address($0, asked: asked) }
            if let index = shards.firstIndex(where: { $0.primary == primary }) {
                shards[index].ranges.append(Int(start)...Int(end))
                shards[index].replicas = Array(Set(shards[index].replicas + replicas)).sorted { ($0.host, $0.port) < ($1.host, $1.port) }
            } else {
                shards.append(Shard(primary: primary, replicas: replicas, ranges: [Int(start)...Int(end)]))
            }
        }
        self.init(shards: shards.sorted { ($0.ranges.first?.lowerBound ?? 0) < ($1.ranges.first?.lowerBound ?? 0) })
    }

    private static func address(_ node: RedisReply, asked: HostAndPort) -> HostAndPort? {
        guard let parts = node.array, parts.count >= 2, let host = parts[0].string, let port = parts[1].integer, (1...65535).contains(port)
        else { return nil }
        return HostAndPort(host: host.isEmpty ? asked.host : host, port: Int(port))
    }

    /// The shard serving `slot`, if any does.
    package func shardIndex(ofSlot slot: Int) -> Int? {
        let owner = owners[slot]
        return owner == Self.unowned ? nil : Int(owner)
    }

    /// Every slot is served.
    package var coversEverySlot: Bool { !owners.contains(Self.unowned) }

    /// Every node named, primaries first: where a refresh asks.
    package var nodes: [HostAndPort] { shards.map(\.primary) + shards.flatMap(\.replicas) }
}
