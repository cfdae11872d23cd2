import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCSupport
import ServiceLifecycle
import SwiftProtobuf
import SwitchboardProtocol

/// The backends' way to reach users: the Gateway API of any node, with the push secret.
final class GatewayPusher: Service, Sendable {
    private let client: GRPCHTTP2Client
    private let metadata: Metadata
    let endpoint: GRPCEndpoint
    private let timeout: Duration

    init(endpoint: GRPCEndpoint, pushSecret: String, timeout: Duration) throws {
        self.endpoint = endpoint
        self.timeout = timeout
        client = try endpoint.makeClient()
        var metadata = Metadata()
        metadata.addString("Bearer \(pushSecret)", forKey: "authorization")
        self.metadata = metadata
    }

    /// Pushes to every connection of `user`; the outcome says whether anyone got it.
    func push(to user: String, from: String, kind: String, data: Google_Protobuf_Value) async throws -> Switchboard_Gateway_V1_PushOutcome {
        var request = Switchboard_Gateway_V1_PushToUserRequest()
        request.user = user
        request.push.from = from
        request.push.kind = kind
        request.push.data = data
        var options = CallOptions.defaults
        options.timeout = timeout
        // Ride out a gateway that is (re)starting, within the deadline.
        options.waitForReady = true
        return try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
            .pushToUser(request, metadata: metadata, options: options)
    }

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await client.runConnections()
        } onGracefulShutdown: {
            self.client.beginGracefulShutdown()
        }
    }
}
