import Auth
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Node
import Synchronization

extension FuzzTarget {
    /// One node for every input, without Redis (presence and relay in process).
    private static let node: GatewayNode = blocking {
        var configuration = NodeConfiguration(nodeID: "fuzz", jwtSecret: secret, pushSecret: String(repeating: "p", count: 16))
        configuration.handshakeTimeout = .seconds(3600)
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        return try! await GatewayNode(configuration: configuration, logger: logger)
    }

    static let secret = String(repeating: "f", count: 32)

    /// A valid upgrade request for user "fuzz", sent before the input in `frames`.
    private static let upgrade: [UInt8] = blocking {
        upgradeRequest(token: try! await TokenAuthenticator(secret: secret).issue(user: "fuzz", validFor: .seconds(365 * 86_400)))
    }

    static func upgradeRequest(token: String) -> [UInt8] {
        Array(
            ("GET /ws HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer \(token)\r\n\r\n").utf8
        )
    }

    /// The input through the client port's pipeline on a testing channel: as the
    /// client's first bytes (`http`), or after a valid upgrade (`frames`, or `token`'s).
    static func pipeline(upgradeFirst: Bool, upgrade: [UInt8]? = nil, _ bytes: [UInt8]) {
        let node = Self.node
        let upgrade = upgrade ?? Self.upgrade
        blocking {
            let channel = NIOAsyncTestingChannel()
            do {
                try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9))
                try await channel.testingEventLoop.executeInContext { try node.clientListener().configure(channel) }
                if upgradeFirst {
                    try await channel.writeInbound(ByteBuffer(bytes: upgrade))
                    _ = try await channel.waitForOutboundWrite(as: IOData.self)  // the 101
                }
                try await channel.writeInbound(ByteBuffer(bytes: bytes))
            } catch {
                // A refused input: the pipeline said so by throwing. Not a finding.
            }
            _ = try? await channel.close()
        }
    }

    /// Runs `body` to completion from synchronous code (libFuzzer's thread, never a
    /// NIO or cooperative-pool thread).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let value = await body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }
}
