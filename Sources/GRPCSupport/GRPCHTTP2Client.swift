package import GRPCCore
package import GRPCNIOTransportHTTP2

/// A plaintext gRPC client over HTTP/2 (NIO Posix): a node's client to each backend, a
/// backend's client to the gateway. Made by `GRPCEndpoint.makeClient()`.
package typealias GRPCHTTP2Client = GRPCClient<HTTP2ClientTransport.Posix>
