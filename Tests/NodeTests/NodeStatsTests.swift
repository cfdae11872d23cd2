import Foundation
@testable import Node
import SwiftProtobuf
import Testing

/// The dashboard's numbers: read back from the node's own exposition, rates from two snapshots.
@Suite("Node stats snapshots")
struct NodeStatsTests {
    private let exposition = """
        # TYPE switchboard_messages_in_total counter
        switchboard_messages_in_total{node="n"} 120
        switchboard_messages_out_total{node="n"} 30
        switchboard_closes_total{node="n",reason="slow_consumer"} 2
        switchboard_closes_total{node="n",reason="ping_timeout"} 5
        switchboard_backend_calls_total{node="n",backend="chat",outcome="ok"} 10
        switchboard_backend_calls_total{node="n",backend="chat",outcome="timeout"} 3
        switchboard_backend_calls_total{node="n",backend="location",outcome="unavailable"} 1
        switchboard_backend_circuit_state{node="n",backend="chat"} 0
        switchboard_backend_circuit_state{node="n",backend="location"} 2
        switchboard_backend_circuit_state{node="n",backend="notification"} 1
        not a metric line
        """

    @Test("totals sum a counter's series, filtered by a label when the dashboard needs one")
    func totals() {
        let totals = MetricTotals(exposition: exposition)
        #expect(totals.sum("switchboard_messages_in_total") == 120)
        #expect(totals.sum("switchboard_closes_total", "reason", "slow_consumer") == 2)
        #expect(totals.sum("switchboard_backend_calls_total") == 14)
        #expect(totals.sum("switchboard_backend_calls_total", "outcome", "ok", excluding: true) == 4)
        #expect(totals.sum("switchboard_relay_in_total") == 0)
        #expect(totals.count("switchboard_backend_circuit_state", equalTo: 2) == 1, "one circuit open")
    }

    @Test("rates are the counters' growth per second since the previous snapshot; the first has none")
    func rates() {
        let first = NodeStats(
            node: "n", atMilliseconds: 10_000, connections: 3, ready: true, draining: false, redisUp: true,
            metrics: MetricTotals(exposition: exposition), previous: nil
        )
        #expect(first.rates.isEmpty)
        #expect(first.totals["slowConsumerCloses"] == 2)
        #expect(first.totals["backendErrors"] == 4)
        #expect(first.totals["openCircuits"] == 1)
        let later = exposition.replacingOccurrences(of: "} 120", with: "} 170")
        let second = NodeStats(
            node: "n", atMilliseconds: 12_000, connections: 3, ready: true, draining: false, redisUp: true,
            metrics: MetricTotals(exposition: later), previous: first
        )
        #expect(second.rates["messagesIn"] == 25)
        #expect(second.rates["messagesOut"] == 0)
        let value = second.value.structValue.fields
        #expect(value["connections"]?.numberValue == 3)
        #expect(value["rates"]?.structValue.fields["messagesIn"]?.numberValue == 25)
    }
}
