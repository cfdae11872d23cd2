import Auth
import Backends
import Essentials
import Foundation
import GRPCCore
import GRPCSupport
import Logging
import Node
import SwiftProtobuf
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

/// gRPC over TLS and mutual TLS both ways between nodes and backends, with certificates
/// made in the test by openssl: the Gateway API refuses a backend without the client
/// certificate, backends refuse a node without theirs, and backends refuse calls without
/// the backend secret.
@Suite("gRPC over mutual TLS between nodes and backends", .timeLimit(.minutes(2)))
struct GRPCTLSTests {
    private static let logger = Logger(label: "grpc-tls-test")

    private enum PushResult: Equatable { case delivered(Int), failed(RPCError.Code) }

    /// One Gateway API call's outcome, or the code it failed with.
    private static func push(to user: String, port: Int, security: GRPCClientSecurity) async -> PushResult {
        do {
            return .delivered(try await withGRPCClient(port: port, security: security) { client in
                var request = Switchboard_Gateway_V1_PushToUserRequest()
                request.user = user
                request.push.kind = "alert"
                request.push.data = .init(stringValue: "over mtls")
                var options = CallOptions.defaults
                // A refused handshake fails at once; the deadline only bounds a stuck call,
                // and must not be reached by a slow machine's accepted one.
                options.timeout = testDeadline
                options.waitForReady = false
                let outcome = try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                    .pushToUser(request, metadata: .bearer(RunningNode.pushSecret), options: options)
                return Int(outcome.deliveredLocal)
            })
        } catch let error as RPCError {
            return .failed(error.code)
        } catch {
            return .failed(.unknown)
        }
    }

    @Test("chat through mutual TLS both ways; the Gateway API refuses a backend without the client certificate, plaintext or an outsider's")
    func mutualTLS() async throws {
        let pki = try TestCertificates.make()
        defer { pki.remove() }
        try await withNodeAndBackends(configure: {
            $0.gatewayTLSCertFile = pki.serverCert
            $0.gatewayTLSKeyFile = pki.serverKey
            $0.gatewayClientCAFile = pki.ca
            $0.backendCAFile = pki.ca
            $0.backendTLSCertFile = pki.clientCert
            $0.backendTLSKeyFile = pki.clientKey
        }, configureBackends: {
            $0.tlsCertFile = pki.serverCert
            $0.tlsKeyFile = pki.serverKey
            $0.clientCAFile = pki.ca
            $0.gatewayCAFile = pki.ca
            $0.gatewayTLSCertFile = pki.clientCert
            $0.gatewayTLSKeyFile = pki.clientKey
        }) { system in
            // Node → Chat backend and Chat backend → Gateway API, each over mutual TLS.
            let alice = try await system.node.connect("alice")
            let bob = try await system.node.connect("bob")
            alice.send(#"{"id":"c1","call":"chat.send","data":{"to":"bob","text":"hello over mtls"}}"#)
            let push = try #require(try await bob.receiveJSON()["push"] as? [String: Any])
            #expect((push["data"] as? [String: Any])?["text"] as? String == "hello over mtls")
            #expect((try await alice.receiveJSON()["ok"] as? [String: Any])?["messageId"] != nil)

            let port = system.node.grpcPort
            let trusted = try GRPCClientTLS(caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey).load(logger: Self.logger)
            #expect(await Self.push(to: "bob", port: port, security: trusted) == .delivered(1), "a backend with the client certificate pushes")
            let withoutCertificate = try GRPCClientTLS(caFile: pki.ca).load(logger: Self.logger)
            #expect(await Self.push(to: "bob", port: port, security: withoutCertificate) == .failed(.unavailable))
            let outsider = try GRPCClientTLS(caFile: pki.ca, certFile: pki.outsiderCert, keyFile: pki.outsiderKey).load(logger: Self.logger)
            #expect(await Self.push(to: "bob", port: port, security: outsider) == .failed(.unavailable))
            #expect(await Self.push(to: "bob", port: port, security: .plaintext) == .failed(.unavailable))
            let untrustingServer = try GRPCClientTLS(caFile: pki.otherCA, certFile: pki.clientCert, keyFile: pki.clientKey).load(logger: Self.logger)
            #expect(await Self.push(to: "bob", port: port, security: untrustingServer) == .failed(.unavailable), "the gateway's certificate is checked too")

            // A caller without the node's certificate gets nothing from a backend.
            let chatPort = try #require(system.backends.ports[.chat])
            let history = await Self.history(port: chatPort, security: withoutCertificate)
            #expect(history == .unavailable, "\(history)")
            #expect(await Self.history(port: chatPort, security: trusted) == .ok)
            try await alice.close()
            try await bob.close()
        }
    }

    private enum CallResult: Equatable { case ok, unavailable, unauthenticated, other(String) }

    /// `chat.history` as a node makes it (the backend secret, a user), over `security`.
    private static func history(
        port: Int, security: GRPCClientSecurity, secret: String? = SharedSecret.derived(from: RunningNode.pushSecret, purpose: .backendCalls)
    ) async -> CallResult {
        do {
            return try await withGRPCClient(port: port, security: security) { client in
                var metadata = secret.map { Metadata.bearer($0) } ?? Metadata()
                metadata.addString("alice", forKey: "x-switchboard-user")
                var options = CallOptions.defaults
                // A refused handshake fails at once; the deadline only bounds a stuck call,
                // and must not be reached by a slow machine's accepted one.
                options.timeout = testDeadline
                options.waitForReady = false
                var request = Switchboard_Chat_V1_HistoryRequest()
                request.with = "bob"
                _ = try await Switchboard_Chat_V1_ChatService.Client(wrapping: client).history(request, metadata: metadata, options: options)
                return .ok
            }
        } catch let error as RPCError {
            switch error.code {
            case .unavailable: return .unavailable
            case .unauthenticated: return .unauthenticated
            default: return .other("\(error)")
            }
        } catch {
            return .other("\(error)")
        }
    }

    @Test("backends take a caller's identity only with the backend secret")
    func backendSecret() async throws {
        try await withNodeAndBackends(configure: { $0.backendSecret = "node-to-backend-secret-0001" }, configureBackends: {
            $0.backendSecret = "node-to-backend-secret-0001"
        }) { system in
            let chatPort = try #require(system.backends.ports[.chat])
            #expect(await Self.history(port: chatPort, security: .plaintext, secret: nil) == .unauthenticated)
            #expect(await Self.history(port: chatPort, security: .plaintext, secret: RunningNode.pushSecret) == .unauthenticated)
            #expect(await Self.history(port: chatPort, security: .plaintext, secret: "node-to-backend-secret-0001") == .ok)
            // The node sends it: a call through the node works.
            let alice = try await system.node.connect("alice")
            alice.send(#"{"id":"s","call":"chat.send","data":{"to":"bob","text":"kept"}}"#)
            #expect((try await alice.receiveJSON()["ok"] as? [String: Any])?["messageId"] != nil)
            alice.send(#"{"id":"h","call":"chat.history","data":{"with":"bob"}}"#)
            let messages = (try await alice.receiveJSON()["ok"] as? [String: Any])?["messages"] as? [[String: Any]]
            #expect(messages?.map { $0["text"] as? String } == ["kept"])
            try await alice.close()
        }
    }

    @Test("by default the backend secret is derived from the push secret: a backend never receives the push secret, and refuses it")
    func derivedBackendSecret() async throws {
        try await withNodeAndBackends { system in
            let chatPort = try #require(system.backends.ports[.chat])
            let derived = SharedSecret.derived(from: RunningNode.pushSecret, purpose: .backendCalls)
            #expect(derived != RunningNode.pushSecret && derived.utf8.count >= 32)
            #expect(await Self.history(port: chatPort, security: .plaintext, secret: RunningNode.pushSecret) == .unauthenticated)
            #expect(await Self.history(port: chatPort, security: .plaintext, secret: derived) == .ok)
            let alice = try await system.node.connect("alice")
            alice.send(#"{"id":"h","call":"chat.history","data":{"with":"bob"}}"#)
            #expect(try await alice.receiveJSON()["ok"] != nil, "the node calls with the derived secret")
            try await alice.close()
        }
    }

    @Test("a renewed Gateway API certificate is served to new connections without a restart; a connection already open keeps working")
    func certificateRenewal() async throws {
        let first = try TestCertificates.make()
        defer { first.remove() }
        let renewed = try TestCertificates.make()  // another CA: only a client trusting it gets through
        defer { renewed.remove() }
        let cert = first.path("gateway.pem"), key = first.path("gateway.key")
        try FileManager.default.copyItem(atPath: first.serverCert, toPath: cert)
        try FileManager.default.copyItem(atPath: first.serverKey, toPath: key)
        try await withNode(configure: {
            $0.gatewayTLSCertFile = cert
            $0.gatewayTLSKeyFile = key
            $0.tlsReloadInterval = .milliseconds(50)
        }) { node in
            let bob = try await node.connect("bob")
            let trustsRenewed = try GRPCClientTLS(caFile: renewed.ca).load(logger: Self.logger)
            #expect(await Self.push(to: "bob", port: node.grpcPort, security: trustsRenewed) == .failed(.unavailable))
            let trustsFirst = try GRPCClientTLS(caFile: first.ca).load(logger: Self.logger)
            try await withGRPCClient(port: node.grpcPort, security: trustsFirst) { client in
                let gateway = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                var request = Switchboard_Gateway_V1_PushToUserRequest()
                request.user = "bob"
                request.push.kind = "alert"
                #expect(try await gateway.pushToUser(request, metadata: .bearer(RunningNode.pushSecret)).deliveredLocal == 1)
                // cert-manager writes the renewed pair in place.
                try Data(contentsOf: URL(fileURLWithPath: renewed.serverKey)).write(to: URL(fileURLWithPath: key))
                try Data(contentsOf: URL(fileURLWithPath: renewed.serverCert)).write(to: URL(fileURLWithPath: cert))
                try await waitUntil { await Self.push(to: "bob", port: node.grpcPort, security: trustsRenewed) == .delivered(1) }
                #expect(try await gateway.pushToUser(request, metadata: .bearer(RunningNode.pushSecret)).deliveredLocal == 1,
                        "the connection made before the renewal is still served")
            }
            try await bob.close()
        }
    }

    @Test("a TLS file that does not load stops the start, naming it; a client CA without a certificate is refused")
    func badFiles() async throws {
        let pki = try TestCertificates.make()
        defer { pki.remove() }
        var configuration = NodeConfiguration(nodeID: "n", jwtSecret: RunningNode.secret, pushSecret: RunningNode.pushSecret)
        configuration.gatewayTLSCertFile = pki.path("missing.pem")
        configuration.gatewayTLSKeyFile = pki.serverKey
        let error = await #expect(throws: ConfigurationError.self) { _ = try await GatewayNode(configuration: configuration) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("missing.pem"))
        configuration.gatewayTLSCertFile = pki.clientCert  // not the key's certificate
        await #expect(throws: ConfigurationError.self) { _ = try await GatewayNode(configuration: configuration) }
        configuration.gatewayTLSCertFile = nil
        configuration.gatewayTLSKeyFile = nil
        configuration.gatewayClientCAFile = pki.ca
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        var backends = configuration
        backends.gatewayClientCAFile = nil
        backends.backendCAFile = pki.path("nothing.pem")
        await #expect(throws: (any Error).self) { _ = try await GatewayNode(configuration: backends) }
    }
}
