import Synchronization

/// What the upgrade check learned about a client, handed on to its socket's handler.
final class Handshake: Sendable {
    struct Accepted: Sendable {
        let user: String
        let format: WireFormat
    }

    private let accepted = Mutex<Accepted?>(nil)

    func accept(_ value: Accepted) {
        accepted.withLock { $0 = value }
    }

    var value: Accepted? { accepted.withLock { $0 } }
}
