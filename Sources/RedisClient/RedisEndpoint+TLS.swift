import NIOCore
package import NIOSSL

extension RedisEndpoint {
    /// The TLS client context for `rediss://` (nil for `redis://`): Redis' certificate is
    /// verified against `caFile`, or the system's roots.
    package func makeTLSContext() throws -> NIOSSLContext? {
        guard tls else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12  // 1.0 and 1.1 are deprecated (RFC 8996)
        if let caFile { configuration.trustRoots = .file(caFile) }
        return try NIOSSLContext(configuration: configuration)
    }

    /// The TLS handler for one connection: SNI and name checks with a host name; an IP
    /// address (which SNI cannot carry) is checked by the certificate chain alone.
    func tlsHandler(_ context: NIOSSLContext, host: String) throws -> NIOSSLClientHandler {
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
    }
}
