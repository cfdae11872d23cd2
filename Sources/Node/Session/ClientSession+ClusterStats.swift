import SwitchboardProtocol
import SwiftProtobuf

/// `switchboard.cluster`: every node's latest stats snapshot, for the dashboard. Answered
/// by the node itself, to tokens with the admin claim (or to anyone on a `--dev` node).
extension ClientSession {
    static let clusterStatsCall = GatewayCall.cluster.rawValue

    func prepareClusterStats(id: String) -> (@Sendable () async -> Void)? {
        guard isAdmin || services.configuration.dev else {
            reply(to: id, error: .permissionDenied, "\(Self.clusterStatsCall) needs a token with the admin claim")
            return nil
        }
        let session = self
        return {
            do {
                let nodes = try await session.services.clusterStats.snapshots()
                session.reply(to: id, ok: .init(structValue: [
                    "nodes": .init(listValue: .init(values: nodes)),
                    "servedBy": .init(stringValue: session.services.configuration.nodeID),
                ]))
            } catch {
                session.reply(to: id, .unavailable, "the cluster's stats are unavailable; retry", incident: error)
            }
        }
    }
}
