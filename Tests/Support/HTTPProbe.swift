import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client for the node's plain routes and refused upgrades.
package enum HTTPProbe {
    package struct Response {
        package let status: Int
        package let body: String
    }

    package static func get(port: Int, path: String, headers: [(String, String)] = []) async throws -> Response {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            for (name, value) in headers { request += "\(name): \(value)\r\n" }
            request += "\r\n"
            try await outbound.write(ByteBuffer(string: request))
            var received = ""
            for try await chunk in inbound {
                received += String(buffer: chunk)
                // An accepted upgrade keeps the socket open: its head is the whole answer.
                if received.hasPrefix("HTTP/1.1 101"), received.contains("\r\n\r\n") { break }
            }
            // Whatever answered (on a busy machine a stopped node's port can already belong
            // to another test's server) is reported, never trapped on.
            guard let statusLine = received.split(separator: "\r\n").first, statusLine.hasPrefix("HTTP/"),
                  let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }),
                  let headerEnd = received.range(of: "\r\n\r\n")
            else { throw TestFailure("not an HTTP response: \(received)") }
            return Response(status: status, body: String(received[headerEnd.upperBound...]))
        }
    }

    /// A WebSocket upgrade request; the node answers 101 or refuses with a status.
    package static func upgrade(port: Int, query: String = "", headers: [(String, String)] = []) async throws -> Response {
        try await get(port: port, path: "/ws" + query, headers: [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ] + headers)
    }
}
