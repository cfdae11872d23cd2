import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCSupport
import SwiftProtobuf
import SwitchboardProtocol

/// gRPC clients for the Gateway API of each node, standing in for backends that push.
final class GatewayClients: Sendable {
    private let clients: [GRPCHTTP2Client]
    private let metadata: Metadata
    let endpoints: [GRPCEndpoint]

    init(endpoints: [GRPCEndpoint], pushSecret: String) throws {
        guard !endpoints.isEmpty else { throw BenchError("no Gateway API addresses (--gateway host:port)") }
        self.endpoints = endpoints
        clients = try endpoints.map { try $0.makeClient() }
        metadata = .bearer(pushSecret)
    }

    /// Runs the clients' connections while `body` uses them.
    func with<Result: Sendable>(_ body: @Sendable () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            for client in clients { group.addTask { try await client.runConnections(); return nil } }
            defer { for client in clients { client.beginGracefulShutdown() } }
            let result = try await body()
            return result
        }
    }

    private var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(10)
        return options
    }

    func push(via gateway: Int, to user: String, content: Switchboard_Gateway_V1_PushContent) async throws {
        var request = Switchboard_Gateway_V1_PushToUserRequest()
        request.user = user
        request.push = content
        let outcome = try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: clients[gateway % clients.count])
            .pushToUser(request, metadata: metadata, options: options)
        if outcome.offline { throw BenchError("\(endpoints[gateway % clients.count]) reports \(user) offline") }
    }

    /// A `PushToUser` call's outcome as the node answered it (`durable` nil: as the node's
    /// setting says for the kind).
    func pushOutcome(
        via gateway: Int, to user: String, content: Switchboard_Gateway_V1_PushContent, durable: Bool?
    ) async throws -> Switchboard_Gateway_V1_PushOutcome {
        var request = Switchboard_Gateway_V1_PushToUserRequest()
        request.user = user
        request.push = content
        if let durable { request.durable = durable }
        return try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: clients[gateway % clients.count])
            .pushToUser(request, metadata: metadata, options: options)
    }

    /// One `PushStream` through `gateway`: `items` are written as they come, each outcome
    /// goes to `outcome`; returns when `items` ends and every outcome has come back.
    func pushStream(
        via gateway: Int, items: AsyncStream<Switchboard_Gateway_V1_PushStreamItem>,
        outcome: @escaping @Sendable (Switchboard_Gateway_V1_PushStreamOutcome) -> Void
    ) async throws {
        var options = CallOptions.defaults
        options.timeout = nil
        try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: clients[gateway % clients.count]).pushStream(
            metadata: metadata, options: options,
            requestProducer: { writer in
                for await item in items { try await writer.write(item) }
            },
            onResponse: { response in
                for try await answer in response.messages { outcome(answer) }
            }
        )
    }

    /// The user's connections as the cluster's presence has them.
    func presence(via gateway: Int, of user: String) async throws -> [Switchboard_Gateway_V1_PresenceConnection] {
        var request = Switchboard_Gateway_V1_GetPresenceRequest()
        request.user = user
        return try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: clients[gateway % clients.count])
            .getPresence(request, metadata: metadata, options: options).connections
    }

    func broadcast(via gateway: Int, data: Google_Protobuf_Value) async throws {
        var request = Switchboard_Gateway_V1_BroadcastRequest()
        request.push.from = "bench"
        request.push.kind = "bench"
        request.push.data = data
        _ = try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: clients[gateway % clients.count])
            .broadcast(request, metadata: metadata, options: options)
    }
}
