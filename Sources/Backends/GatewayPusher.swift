import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCSupport
import ServiceLifecycle
import SwiftProtobuf
import SwitchboardProtocol
import Synchronization

/// The backends' way to reach users: the Gateway API of any node, with the push secret.
///
/// Given several nodes, a push goes through the one that answered last; a node that is
/// down or draining (`unavailable`) passes the push to the next at once, so a drained node
/// costs no push. Only when none answers does a push wait, within its deadline, for one
/// to come back.
final class GatewayPusher: Service, Sendable {
    private let clients: [GRPCHTTP2Client]
    private let metadata: Metadata
    let endpoints: [GRPCEndpoint]
    private let timeout: Duration
    /// The client that answered last.
    private let preferred = Atomic<Int>(0)
    private let security: GRPCClientSecurity

    init(endpoints: [GRPCEndpoint], pushSecret: String, security: GRPCClientSecurity = .plaintext, timeout: Duration) throws {
        self.endpoints = endpoints
        self.timeout = timeout
        self.security = security
        clients = try endpoints.map { try $0.makeClient(security: security) }
        metadata = .bearer(pushSecret)
    }

    /// Pushes to every connection of `user`; the outcome says whether anyone got it.
    /// `causedBy`: the user whose call this push answers (a chat message's sender), so
    /// that the node sheds it like that user's own sends.
    func push(
        to user: String, from: String, kind: String, data: Google_Protobuf_Value, causedBy: String = ""
    ) async throws -> Switchboard_Gateway_V1_PushOutcome {
        var request = Switchboard_Gateway_V1_PushToUserRequest()
        request.user = user
        request.push.causedBy = causedBy
        request.push.from = from
        request.push.kind = kind
        request.push.data = data
        let first = preferred.load(ordering: .relaxed)
        if clients.count > 1 {
            for offset in 0..<clients.count {
                let index = (first + offset) % clients.count
                do {
                    let outcome = try await push(request, through: index, waitForReady: false)
                    preferred.store(index, ordering: .relaxed)
                    return outcome
                } catch let error as RPCError where error.code == .unavailable {
                    continue
                }
            }
        }
        // Ride out a gateway that is (re)starting, within the deadline.
        return try await push(request, through: first, waitForReady: true)
    }

    private func push(
        _ request: Switchboard_Gateway_V1_PushToUserRequest, through index: Int, waitForReady: Bool
    ) async throws -> Switchboard_Gateway_V1_PushOutcome {
        var options = CallOptions.defaults
        options.timeout = timeout
        options.waitForReady = waitForReady
        return try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: clients[index])
            .pushToUser(request, metadata: metadata, options: options)
    }

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { [security] in await security.keepCertificateCurrent() }
                for client in clients { group.addTask { try await client.runConnections() } }
            }
        } onGracefulShutdown: {
            for client in self.clients { client.beginGracefulShutdown() }
        }
    }
}
