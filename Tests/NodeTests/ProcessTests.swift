import Foundation
import NIOWebSocket
import Testing

@Suite("The switchboard executable")
struct ProcessTests {
    /// The `switchboard` binary that `swift test` built next to the test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("switchboard")
    }

    @Test("switchboard node closes its clients with 1001 on SIGTERM and exits 0")
    func sigterm() async throws {
        let port = try freePort()
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["node", "--port", "\(port)", "--grpc-port", "0", "--node-id", "proc-1", "--log-level", "warning"]
        process.environment = ["SWITCHBOARD_JWT_SECRET": RunningNode.secret, "SWITCHBOARD_PUSH_SECRET": RunningNode.pushSecret]
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let token = try await RunningNode.token(for: "alice")
        var client: TestWebSocket?
        try await waitUntil(timeout: .seconds(20)) {
            client = try? await TestWebSocket.connect(url: "ws://127.0.0.1:\(port)/ws", token: token)
            return client != nil
        }
        let alice = try #require(client)
        alice.send(#"{"id":"1","ping":{}}"#)
        #expect((try await alice.receiveJSON()["ok"] as? [String: Any])?["node"] as? String == "proc-1")

        kill(process.processIdentifier, SIGTERM)
        #expect(try await alice.closed()?.closeCode == .goingAway)
        try await waitUntil(timeout: .seconds(10)) { !process.isRunning }
        #expect(process.terminationStatus == 0)
    }

    @Test("switchboard node refuses a missing or short secret with a clear error")
    func badConfiguration() throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["node", "--port", "0"]
        process.environment = ["SWITCHBOARD_JWT_SECRET": "short"]
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(output.contains("jwt-secret"))
    }
}

/// A loopback port nobody listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else { throw TestFailure("no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
