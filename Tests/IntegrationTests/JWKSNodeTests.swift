import Auth
import Essentials
import Foundation
import JWTKit
import Node
import Testing
import NodeTestSupport
import TestSupport

/// A node that takes tokens from an identity provider: `--jwks-file`, `--jwt-issuer`,
/// `--jwt-audience` (the key types and every claim rule: `IdentityProviderTokenTests`).
@Suite("A node with a JWKS", .timeLimit(.minutes(2)))
struct JWKSNodeTests {
    @Test("an ES256 token from the JWKS connects; one signed by a rotated-out key, or for another audience, gets 401")
    func connects() async throws {
        let current = ES256PrivateKey()
        let (x, y) = try #require(current.publicKey.parameters)
        let signers = JWTKeyCollection()
        await signers.add(ecdsa: current, kid: "2026-12")
        await signers.add(ecdsa: ES256PrivateKey(), kid: "2026-11")  // rotated out: not in the file
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json")
        try #"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"2026-12","x":"\#(x)","y":"\#(y)"}]}"#
            .write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        func token(kid: String, audience: String = "switchboard") async throws -> String {
            var claims = AccessTokenClaims(user: "ines", expiresAt: Date().addingTimeInterval(600))
            claims.iss = IssuerClaim(value: "https://idp.example")
            claims.aud = AudienceClaim(value: [audience])
            return try await signers.sign(claims, kid: JWKIdentifier(string: kid))
        }
        try await withNode(configure: {
            $0.jwksFile = file.path
            $0.jwtIssuer = "https://idp.example"
            $0.jwtAudience = "switchboard"
        }) { node in
            let accepted = try await HTTPProbe.upgrade(port: node.port, headers: [("Authorization", "Bearer \(try await token(kid: "2026-12"))")])
            #expect(accepted.status == 101)
            let rotated = try await HTTPProbe.upgrade(port: node.port, headers: [("Authorization", "Bearer \(try await token(kid: "2026-11"))")])
            #expect(rotated.status == 401)
            let elsewhere = try await HTTPProbe.upgrade(
                port: node.port, headers: [("Authorization", "Bearer \(try await token(kid: "2026-12", audience: "another-app"))")]
            )
            #expect(elsewhere.status == 401 && elsewhere.body.contains("aud does not include"))
            #expect(!elsewhere.body.contains("switchboard") && !elsewhere.body.contains("idp.example"), "the 401 names nothing configured")
            // The nodes' own HS256 tokens still work beside the JWKS.
            let own = try await HTTPProbe.upgrade(port: node.port, headers: [("Authorization", "Bearer \(try await RunningNode.token(for: "ines"))")])
            #expect(own.status == 401, "without iss and aud the policy refuses them too")
        }
    }

    @Test("keys added to the JWKS file are taken up without a restart; a file that stops loading keeps the last good set")
    func rotation() async throws {
        let old = ES256PrivateKey()
        let new = ES256PrivateKey()
        let signers = JWTKeyCollection()
        await signers.add(ecdsa: old, kid: "old")
        await signers.add(ecdsa: new, kid: "new")
        func jwk(_ key: ES256PrivateKey, _ kid: String) throws -> String {
            let (x, y) = try #require(key.publicKey.parameters)
            return #"{"kty":"EC","crv":"P-256","alg":"ES256","kid":"\#(kid)","x":"\#(x)","y":"\#(y)"}"#
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json")
        try #"{"keys":[\#(try jwk(old, "old"))]}"#.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try await withNode(configure: {
            $0.jwksFile = file.path
            $0.jwksReloadInterval = .milliseconds(50)
            ($0.jwtIssuer, $0.jwtAudience) = ("*", "*")  // the tokens here carry neither
        }) { node in
            func status(_ kid: String) async throws -> Int {
                let claims = AccessTokenClaims(user: "rhea", expiresAt: Date().addingTimeInterval(600))
                let token = try await signers.sign(claims, kid: JWKIdentifier(string: kid))
                return try await HTTPProbe.upgrade(port: node.port, headers: [("Authorization", "Bearer \(token)")]).status
            }
            #expect(try await status("old") == 101)
            #expect(try await status("new") == 401, "not in the file yet")
            try #"{"keys":[\#(try jwk(old, "old")),\#(try jwk(new, "new"))]}"#.write(to: file, atomically: true, encoding: .utf8)
            try await waitUntil { try await status("new") == 101 }
            try "{ half a file".write(to: file, atomically: true, encoding: .utf8)
            try await Task.sleep(for: .milliseconds(500))  // ten checks of the broken file
            #expect(try await status("new") == 101, "the last good key set stays")
        }
    }

    @Test("keys from a JWKS URL: fetched at start, a rotation taken up on refresh, the last good set kept while the URL fails")
    func url() async throws {
        let old = ES256PrivateKey()
        let new = ES256PrivateKey()
        let signers = JWTKeyCollection()
        await signers.add(ecdsa: old, kid: "old")
        await signers.add(ecdsa: new, kid: "new")
        func jwk(_ key: ES256PrivateKey, _ kid: String) throws -> String {
            let (x, y) = try #require(key.publicKey.parameters)
            return #"{"kty":"EC","crv":"P-256","alg":"ES256","kid":"\#(kid)","x":"\#(x)","y":"\#(y)"}"#
        }
        // The identity provider: Python's http.server on a loopback port, serving a directory.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("idp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("jwks.json")
        try #"{"keys":[\#(try jwk(old, "old"))]}"#.write(to: file, atomically: true, encoding: .utf8)
        let port = try freePort()
        let server = ChildProcess.guarded()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", directory.path]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() } }
        let url = "http://127.0.0.1:\(port)/jwks.json"
        try await waitUntil { (try? await HTTPProbe.get(port: port, path: "/jwks.json").status) == 200 }

        var missing = NodeConfiguration(nodeID: "n", jwtSecret: "", pushSecret: String(repeating: "p", count: 16))
        missing.jwksURL = "http://127.0.0.1:\(port)/nothing.json"
        (missing.jwtIssuer, missing.jwtAudience) = ("*", "*")
        await #expect { _ = try await GatewayNode(configuration: missing) } throws: {
            ($0 as? ConfigurationError)?.key == "jwks-url" && "\($0)".contains("404")
        }

        try await withNode(configure: {
            $0.jwtSecret = ""
            $0.jwksURL = url
            $0.jwksRefreshInterval = .milliseconds(50)
            ($0.jwtIssuer, $0.jwtAudience) = ("*", "*")
        }) { node in
            func status(_ kid: String) async throws -> Int {
                let claims = AccessTokenClaims(user: "rhea", expiresAt: Date().addingTimeInterval(600))
                let token = try await signers.sign(claims, kid: JWKIdentifier(string: kid))
                return try await HTTPProbe.upgrade(port: node.port, headers: [("Authorization", "Bearer \(token)")]).status
            }
            #expect(try await status("old") == 101)
            #expect(try await status("new") == 401, "not published yet")
            try #"{"keys":[\#(try jwk(new, "new"))]}"#.write(to: file, atomically: true, encoding: .utf8)
            try await waitUntil { try await status("new") == 101 }
            #expect(try await status("old") == 401, "rotated out at the provider")
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            try await Task.sleep(for: .milliseconds(500))  // ten failed fetches
            #expect(try await status("new") == 101, "the last good key set stays while the URL fails")
        }
    }

    @Test("a JWKS file that cannot be read, or is not a key set, stops the node at start naming the setting")
    func badFile() async throws {
        var configuration = NodeConfiguration(nodeID: "n", jwtSecret: "", pushSecret: String(repeating: "p", count: 16))
        (configuration.jwtIssuer, configuration.jwtAudience) = ("https://idp.example", "switchboard")
        configuration.jwksFile = "/nonexistent/jwks.json"
        await #expect { _ = try await GatewayNode(configuration: configuration) } throws: { ($0 as? ConfigurationError)?.key == "jwks-file" }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json")
        try "not json".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        configuration.jwksFile = file.path
        await #expect { _ = try await GatewayNode(configuration: configuration) } throws: { ($0 as? ConfigurationError)?.key == "jwks-file" }
        configuration.jwksFile = nil
        #expect(throws: ConfigurationError.self, "no secret and no JWKS") { try configuration.validate() }
    }

    @Test("with a JWKS, iss and aud must be named (or '*' said out loud); a JWKS URL is https, or http only to a loopback host")
    func identityProviderRules() throws {
        var configuration = NodeConfiguration(nodeID: "n", jwtSecret: "", pushSecret: String(repeating: "p", count: 16))
        configuration.jwksURL = "https://idp.example/jwks.json"
        #expect { try configuration.validate() } throws: { ($0 as? ConfigurationError)?.key == "jwt-issuer" }
        configuration.jwtIssuer = "https://idp.example"
        #expect { try configuration.validate() } throws: { ($0 as? ConfigurationError)?.key == "jwt-audience" }
        configuration.jwtAudience = "*"
        try configuration.validate()
        for url in ["http://idp.example/jwks.json", "http://127.0.0.1.example/jwks.json", "http://127.0.0.1@idp.example/jwks.json", "ftp://idp.example/k"] {
            configuration.jwksURL = url
            #expect(throws: ConfigurationError.self, "\(url)") { try configuration.validate() }
        }
        for url in ["http://127.0.0.1:8080/jwks.json", "http://localhost/jwks.json", "http://[::1]:9/jwks.json"] {
            configuration.jwksURL = url
            #expect(throws: Never.self, "\(url)") { try configuration.validate() }
        }
    }
}
