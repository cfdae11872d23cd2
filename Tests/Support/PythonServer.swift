import Essentials
import Foundation

/// Runs `script` (Python, a server it binds on a loopback port itself) for `body`: waits
/// until `port` accepts a connection (closing that probe), and kills the server after
/// `body` returns or throws. For peers that misbehave on purpose (a hostile sentinel, a
/// server that never finishes its answer), which no real server can be made to be.
package func withPythonServer<Result>(port: Int, script: String, _ body: () async throws -> Result) async throws -> Result {
    let server = ChildProcess.guarded()
    server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    server.arguments = ["-c", script]
    server.standardOutput = FileHandle.nullDevice
    server.standardError = FileHandle.nullDevice
    try server.run()
    defer { if server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() } }
    try await waitUntil {
        guard let probe = try? await RawConnection.connect(port: port) else { return false }
        await probe.close()  // the server answers it into a closed socket, and goes on
        return true
    }
    return try await body()
}
