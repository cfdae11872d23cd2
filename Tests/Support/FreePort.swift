import Essentials

/// A loopback port nobody listens on right now, below the ephemeral range (32768–60999)
/// so that the client sockets of tests running alongside cannot take it before it is
/// bound. With `span`, ports `port ... port + span` are all free.
package func freePort(span: Int = 0) throws -> Int {
    guard let port = LoopbackPort.free(span: span) else { throw TestFailure("no free port below the ephemeral range") }
    return port
}
