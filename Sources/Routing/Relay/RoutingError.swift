/// Why a push could not reach every node it was meant for.
package enum RoutingError: Error, CustomStringConvertible {
    /// Presence or relay failed; `outcome` is what was delivered before the failure.
    case crossNodeUnavailable(outcome: PushOutcome, underlying: any Error)

    package var description: String {
        switch self {
        case .crossNodeUnavailable(let outcome, let underlying):
            "cross-node delivery unavailable (\(outcome.localConnections) local connections served): \(underlying)"
        }
    }
}
