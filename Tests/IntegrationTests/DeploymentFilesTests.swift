import Essentials
import Foundation
import GRPCSupport
import Node
import Routing
import Testing
import NodeTestSupport
import TestSupport

/// The Dockerfile, docker-compose.yml, HAProxy, Kubernetes, Prometheus and Grafana files,
/// checked by `ops/check-deploy.py` where no Docker engine or cluster runs: docker-compose
/// (PyPI) validates the compose file, haproxy checks its configuration, and the manifests
/// must agree with the node (ports, probe paths, subcommands, flags, variables, metrics).
@Suite("Deployment files", .tags(.process, .redis), .timeLimit(.minutes(2)))
struct DeploymentFilesTests {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// docker-compose 1.29 from PyPI, as `scripts/test.sh` installs it.
    static func dockerCompose() throws -> String {
        let candidates = [
            ProcessInfo.processInfo.environment["SWITCHBOARD_DOCKER_COMPOSE"],
            root.appendingPathComponent(".build/compose-venv/bin/docker-compose").path,
        ].compactMap { $0 }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestFailure("docker-compose (PyPI) not found: run scripts/test.sh, which installs it into .build/compose-venv")
        }
        return found
    }

    @Test("the image's build stage copies Package.resolved and everything the sources link to")
    func dockerfileCopiesWhatTheBuildNeeds() throws {
        let dockerfile = try String(contentsOf: Self.root.appendingPathComponent("ops/Dockerfile"), encoding: .utf8)
        // The top-level paths the build stage copies (`COPY a b ./dest`, not `--from=`).
        let copied = Set(dockerfile.split(separator: "\n").filter { $0.hasPrefix("COPY ") && !$0.contains("--from=") }.flatMap { line in
            line.split(separator: " ").dropFirst().dropLast().map { String($0.split(separator: "/").first ?? "") }
        })
        #expect(copied.contains("Package.resolved"), "the image must build the versions the tests ran")
        var links: [(String, String)] = []
        let sources = Self.root.appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: [.isSymbolicLinkKey]))
        for case let file as URL in files where (try? file.resourceValues(forKeys: [.isSymbolicLinkKey]))?.isSymbolicLink == true {
            let target = file.resolvingSymlinksInPath().path
            let relative = target.hasPrefix(Self.root.path + "/") ? String(target.dropFirst(Self.root.path.count + 1)) : target
            links.append((file.path, relative))
        }
        #expect(!links.isEmpty, "Sources/WebAssets/Files/switchboard.js is a link")
        for (link, target) in links {
            let top = String(target.split(separator: "/").first ?? "")
            #expect(copied.contains(top), "\(link) points to \(target), which ops/Dockerfile does not copy")
        }
    }

    @Test("ops/check-deploy.py passes against the node's real /metrics and the switchboard binary")
    func deploymentFilesAgreeWithTheNode() async throws {
        // A clustered node that has made a backend call exports every metric it has.
        let closedPort = try freePort()
        let metrics = try await withCluster(nodes: 1, configure: {
            $0.backends = ["location": GRPCEndpoint(host: "127.0.0.1", port: closedPort)]
        }) { cluster in
            let node = cluster.nodes[0]
            let client = try await node.connect("deployer")
            client.send(#"{"id":"c","call":"location.get","data":{"user":"deployer"}}"#)
            _ = try await client.receiveJSON()
            let metrics = try await HTTPProbe.get(port: node.port, path: "/metrics").body
            try await client.close()
            return metrics
        }
        let metricsFile = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-metrics-\(UUID()).txt")
        try metrics.write(to: metricsFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: metricsFile) }

        let process = ChildProcess.guarded()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            Self.root.appendingPathComponent("ops/check-deploy.py").path,
            "--switchboard", ProcessTests.executable.path,
            "--compose", try Self.dockerCompose(),
            "--metrics", metricsFile.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: await output.readToEnd(), as: UTF8.self)
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let failed = text.split(separator: "\n").filter { $0.hasPrefix("FAIL") }
        #expect(process.terminationStatus == 0, "\(failed.joined(separator: "\n"))\n\(text.suffix(2000))")
        #expect(text.contains("all deployment checks passed"))
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("ok") }.count > 80)
    }
}
