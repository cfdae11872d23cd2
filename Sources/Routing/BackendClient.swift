import GRPCCore
import GRPCNIOTransportHTTP2

/// A gRPC client to one backend service over HTTP/2, created once per node.
public typealias BackendClient = GRPCClient<HTTP2ClientTransport.Posix>
