import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SwiftProtobuf
import SwitchboardWire

/// Why a node refused a WebSocket upgrade. The WebSocket client only learns that the
/// upgrade failed; the same request as plain HTTP gets the node's answer (401 with the
/// token problem, 503 draining or full, 429 …), or 426 when the upgrade would pass.
struct UpgradeRefusal: Sendable {
    let status: Int
    let code: String
    let message: String

    /// A node's refusal is a short JSON error; more than this is not one, and is not read.
    static let maxBodyBytes = 16 * 1024
    /// The probe gives up past this, however the server dribbles its answer.
    static let timeout = Duration.seconds(10)

    /// Asks `url` over HTTP with the token; nil when the node cannot be reached or does not
    /// answer within `timeout`. At most `maxBodyBytes` of the body are read.
    static func probe(
        url: String, token: String, tls: TLSConfiguration?, headers: [String: String] = [:], timeout: Duration = timeout
    ) async -> UpgradeRefusal? {
        await withTaskGroup(of: UpgradeRefusal?.self) { group in
            group.addTask { await ask(url: url, token: token, tls: tls, headers: headers) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    private static func ask(url: String, token: String, tls: TLSConfiguration?, headers: [String: String]) async -> UpgradeRefusal? {
        guard let components = URLComponents(string: url), let host = components.host else { return nil }
        let secure = components.scheme == "wss"
        let port = components.port ?? (secure ? 443 : 80)
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if secure {
                            let context = try NIOSSLContext(configuration: tls ?? .makeClientConfiguration())
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: host))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
            return try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
                head.headers.add(name: "host", value: host)
                for (name, value) in headers { head.headers.add(name: name, value: value) }
                head.headers.add(name: "authorization", value: "Bearer \(token)")
                head.headers.add(name: "connection", value: "close")
                try await outbound.write(.head(head))
                try await outbound.write(.end(nil))
                var status = 0
                var body = ByteBuffer()
                reading: for try await part in inbound {
                    switch part {
                    case .head(let response):
                        status = Int(response.status.code)
                    case .body(var chunk):
                        body.writeBuffer(&chunk)
                        if body.readableBytes >= maxBodyBytes {
                            body.moveWriterIndex(to: body.readerIndex + maxBodyBytes)
                            break reading
                        }
                    case .end:
                        break reading
                    }
                }
                let frame = try? Switchboard_V1_ServerFrame(jsonString: String(buffer: body))
                return UpgradeRefusal(status: status, code: frame?.error.code ?? "", message: frame?.error.message ?? String(buffer: body))
            }
        } catch {
            return nil
        }
    }
}
