/// Why a push could not reach every node it was meant for.
package enum PushDeliveryError: Error, CustomStringConvertible {
    /// Presence or relay failed; `outcome` is what was delivered before the failure.
    case crossNodeUnavailable(outcome: PushOutcome, underlying: any Error)
    /// A durable push could not be stored (Redis unreachable): nothing was delivered.
    case notStored(underlying: any Error)

    /// What a client may be told: the partial outcome, not the cause (an address, a
    /// transport error), which goes to the log.
    package var publicDescription: String {
        switch self {
        case .crossNodeUnavailable(let outcome, _):
            "cross-node delivery unavailable (\(outcome.localConnections) local connections served); retry"
        case .notStored:
            "the durable push could not be stored in the inbox; nothing was delivered; retry"
        }
    }

    package var description: String {
        switch self {
        case .crossNodeUnavailable(let outcome, let underlying):
            "cross-node delivery unavailable (\(outcome.localConnections) local connections served): \(underlying)"
        case .notStored(let underlying):
            "the durable push could not be stored in the inbox: \(underlying)"
        }
    }
}
