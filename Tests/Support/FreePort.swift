import Essentials
import Synchronization

/// A loopback port nobody listens on right now, below the ephemeral range (32768–60999)
/// so that the client sockets of tests running alongside cannot take it before it is
/// bound. With `span`, ports `port ... port + span` are all free. A port is handed out
/// once per test process: tests running side by side pick at random from one range, and
/// two of them were seen to get the same port before either bound it (a Redis Cluster
/// server then failed to bind its bus port and the cluster never formed).
package func freePort(span: Int = 0) throws -> Int {
    try HandedOutPorts.shared.take(span: span)
}

private final class HandedOutPorts: Sendable {
    static let shared = HandedOutPorts()
    private let ports = Mutex<Set<Int>>([])

    func take(span: Int) throws -> Int {
        try ports.withLock { ports in
            guard let port = LoopbackPort.free(span: span, avoiding: ports) else { throw TestFailure("no free port below the ephemeral range") }
            ports.formUnion(port...(port + span))
            return port
        }
    }
}
