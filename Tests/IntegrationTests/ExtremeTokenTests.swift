import Essentials
import Foundation
import Testing
import NodeTestSupport
import TestSupport

/// Tokens whose claims take extreme values, black-box: minted by `switchboard token`,
/// presented to a `switchboard node` process. However valid the signature, no claim value
/// may take a node down.
@Suite("Extreme token claims against a node process", .tags(.process), .timeLimit(.minutes(2)))
struct ExtremeTokenTests {
    /// A token from the CLI, signed with the node's secret.
    private static func token(user: String, ttl: String) async throws -> String {
        let process = ChildProcess.guarded()
        process.executableURL = ProcessTests.executable
        process.arguments = ["token", "--user", user, "--ttl", ttl, "--jwt-secret", RunningNode.secret]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: await output.readToEnd(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = await process.exit(within: .seconds(60))
        #expect(process.terminationStatus == 0, "switchboard token --ttl \(ttl)")
        return text
    }

    @Test("a token that expires in 200,000,000,000 days (past Int64 milliseconds) or 100,000,000 days (past a timer's nanoseconds) is accepted and the node stays up")
    func hugeExpiry() async throws {
        try await withNodeProcesses(1, redis: nil) { nodes in
            let node = nodes[0]
            for (user, ttl) in [("bigexp", "200000000000d"), ("farexp", "100000000d")] {
                let client = try await TestWebSocket.connect(url: node.url, token: try await Self.token(user: user, ttl: ttl), awaitWelcome: false)
                let welcome = try #require(try await client.receiveJSON()["welcome"] as? [String: Any], "\(user)")
                #expect(welcome["user"] as? String == user)
                client.send(#"{"id":"p","ping":{}}"#)
                #expect(try await client.receiveJSON()["ok"] != nil, "\(user)'s connection works")
                try await client.close()
            }
            #expect(node.isRunning)
            let other = try await node.connect("someone-else")
            other.send(#"{"id":"p","ping":{}}"#)
            #expect(try await other.receiveJSON()["ok"] != nil)
            try await other.close()
        }
    }
}
