import Essentials
import SwiftProtobuf

/// One node's snapshot for the cluster dashboard, published every `stats-interval`: its
/// state, its counters' totals (as `/metrics` has them) and their rates per second since
/// the snapshot before.
struct NodeStats: Sendable {
    /// The counters the dashboard shows, by the name it shows them under.
    static let counters: [(name: String, read: @Sendable (MetricTotals) -> Double)] = [
        ("messagesIn", { $0.sum("switchboard_messages_in_total") }),
        ("messagesOut", { $0.sum("switchboard_messages_out_total") }),
        ("relayIn", { $0.sum("switchboard_relay_in_total") }),
        ("relayOut", { $0.sum("switchboard_relay_out_total") }),
        ("queueDrops", { $0.sum("switchboard_queue_drops_total") }),
        ("slowConsumerCloses", { $0.sum("switchboard_closes_total", "reason", CloseReason.slowConsumer.rawValue) }),
        ("backendCalls", { $0.sum("switchboard_backend_calls_total") }),
        ("backendErrors", { $0.sum("switchboard_backend_calls_total", "outcome", "ok", excluding: true) }),
        ("openCircuits", { $0.count("switchboard_backend_circuit_state", equalTo: 2) }),
    ]

    let node: String
    let atMilliseconds: Int64
    let connections: Int
    /// Topics with a subscriber here (each a Redis channel the node subscribes to), and
    /// its connections' subscriptions.
    let topics: Int
    let subscriptions: Int
    let ready: Bool
    let draining: Bool
    /// Nil for a node without Redis.
    let redisUp: Bool?
    let totals: [String: Double]
    let rates: [String: Double]

    init(
        node: String, atMilliseconds: Int64, connections: Int, topics: Int = 0, subscriptions: Int = 0, ready: Bool, draining: Bool, redisUp: Bool?,
        metrics: MetricTotals, previous: NodeStats?
    ) {
        self.node = node
        self.atMilliseconds = atMilliseconds
        self.connections = connections
        self.topics = topics
        self.subscriptions = subscriptions
        self.ready = ready
        self.draining = draining
        self.redisUp = redisUp
        var totals: [String: Double] = [:]
        for counter in Self.counters { totals[counter.name] = counter.read(metrics) }
        self.totals = totals
        var rates: [String: Double] = [:]
        if let previous, atMilliseconds > previous.atMilliseconds {
            let seconds = Double(atMilliseconds - previous.atMilliseconds) / 1000
            for (name, total) in totals {
                // A counter never falls; a restart of the node starts a new series.
                let delta = max(0, total - (previous.totals[name] ?? 0))
                rates[name] = (delta / seconds * 10).rounded() / 10
            }
        }
        self.rates = rates
    }

    /// The snapshot as it is stored and answered.
    var value: Google_Protobuf_Value {
        .init(structValue: [
            "node": .init(stringValue: node),
            "at": .init(numberValue: Double(atMilliseconds)),
            "connections": .init(numberValue: Double(connections)),
            "topics": .init(numberValue: Double(topics)),
            "subscriptions": .init(numberValue: Double(subscriptions)),
            "ready": .init(boolValue: ready),
            "draining": .init(boolValue: draining),
            "redisUp": redisUp.map { .init(boolValue: $0) } ?? .init(nilLiteral: ()),
            "totals": .init(structValue: .init(fields: totals.mapValues { .init(numberValue: $0) })),
            "rates": .init(structValue: .init(fields: rates.mapValues { .init(numberValue: $0) })),
        ])
    }
}
