import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// A WebSocket server on a loopback port that plays a node's side from a test: it
/// upgrades every connection (agreeing to the subprotocol asked for) and hands it to the
/// test as a `ScriptedSocket`. It answers pings and closes; everything else is the test's.
package final class ScriptedNode: Sendable {
    package let port: Int
    package var url: String { "ws://127.0.0.1:\(port)/ws" }
    private let accepted = Mutex<[ScriptedSocket]>([])

    fileprivate init(port: Int) {
        self.port = port
    }

    /// The next connection accepted (in order), once it is upgraded.
    package func connection(number: Int = 0, timeout: Duration = .seconds(30)) async throws -> ScriptedSocket {
        try await waitUntil(timeout: timeout) { self.accepted.withLock { $0.count > number } }
        return accepted.withLock { $0[number] }
    }

    fileprivate func serve(_ upgrade: EventLoopFuture<Upgrade>) async {
        guard case .websocket(let channel)? = try? await upgrade.get() else { return }
        try? await channel.executeThenClose { inbound, outbound in
            let socket = ScriptedSocket(outbound: outbound)
            accepted.withLock { $0.append(socket) }
            defer { socket.ended() }
            for try await frame in inbound {
                switch frame.opcode {
                case .text: socket.received(.text(String(buffer: frame.unmaskedData)))
                case .binary: socket.received(.binary(Array(frame.unmaskedData.readableBytesView)))
                case .ping: try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                case .connectionClose:
                    try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData))
                    return
                default: break
                }
            }
        }
    }

    fileprivate enum Upgrade {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused
    }

    fileprivate static func bind() async throws -> NIOAsyncChannel<EventLoopFuture<Upgrade>, Never> {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketServerUpgrader<Upgrade>(
                        maxFrameSize: 1 << 24,
                        shouldUpgrade: { channel, head in
                            var headers = HTTPHeaders()
                            if let subprotocol = head.headers["Sec-WebSocket-Protocol"].first?.split(separator: ",").first {
                                headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol.trimmingCharacters(in: .whitespaces))
                            }
                            return channel.eventLoop.makeSucceededFuture(headers)
                        },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                .websocket(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
                            }
                        }
                    )
                    let configuration = NIOTypedHTTPServerUpgradeConfiguration(
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.close(promise: nil)
                            return channel.eventLoop.makeSucceededFuture(.refused)
                        }
                    )
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                        configuration: .init(upgradeConfiguration: configuration)
                    )
                }
            }
    }
}

/// Runs `body` with a scripted node listening; it stops, with every connection, when
/// `body` returns or throws.
package func withScriptedNode<Result>(_ body: (ScriptedNode) async throws -> Result) async throws -> Result {
    let server = try await ScriptedNode.bind()
    let node = ScriptedNode(port: try requireLocalPort(server.channel))
    let run = Task {
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await upgrade in inbound { group.addTask { await node.serve(upgrade) } }
            }
        }
    }
    func stop() async {
        run.cancel()
        server.channel.close(promise: nil)
        _ = await run.result
    }
    do {
        let result = try await body(node)
        await stop()
        return result
    } catch {
        await stop()
        throw error
    }
}

private func requireLocalPort(_ channel: any Channel) throws -> Int {
    guard let port = channel.localAddress?.port else { throw TestFailure("the scripted node has no port") }
    return port
}
