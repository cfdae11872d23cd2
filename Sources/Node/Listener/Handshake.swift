import SwitchboardProtocol
import NIOHTTP1
import Routing
import Synchronization

/// What the upgrade check learned about a client: who it is (handed on to its socket's
/// handler), or why it was refused (answered by `HTTPEndpointHandler`).
final class Handshake: Sendable {
    struct Accepted: Sendable {
        let user: String
        let format: WireFormat
        /// The token's admin claim.
        var isAdmin = false
        /// `?since=<offset>&epoch=<epoch>`: the inbox position to resume after.
        var resumeFrom: InboxPosition?
        /// When the token expires (unix ms; `.max`: never, as in tests that skip the token).
        var tokenExpiresAtMs: Int64 = .max
        /// The token's `topics` claim.
        var topics = TopicGrants()
    }

    struct Refusal: Sendable {
        let status: HTTPResponseStatus
        let code: ErrorCode
        let message: String
    }

    private let state = Mutex<(accepted: Accepted?, refusal: Refusal?)>((nil, nil))

    func accept(_ value: Accepted) {
        state.withLock { $0.accepted = value }
    }

    func refuse(_ status: HTTPResponseStatus, _ code: ErrorCode, _ message: String) {
        state.withLock { $0.refusal = Refusal(status: status, code: code, message: message) }
    }

    var value: Accepted? { state.withLock { $0.accepted } }

    /// Taken once: a later request on the same connection starts afresh.
    func takeRefusal() -> Refusal? {
        state.withLock { state in
            defer { state.refusal = nil }
            return state.refusal
        }
    }
}
