import Auth
package import GRPCSupport

/// Where the reference backends listen, which gateway they push through, and the TLS and
/// secrets on both ways. `switchboard backends` reads each setting from a flag or a
/// `SWITCHBOARD_*` variable through one list (`BackendsConfiguration.settings`).
package struct BackendsConfiguration: Sendable {
    /// `--host`, `SWITCHBOARD_BACKENDS_HOST`: address the three services bind.
    package var host = "127.0.0.1"
    /// `--location-port`, `SWITCHBOARD_LOCATION_PORT`; 0 picks a free port.
    package var locationPort = 9101
    /// `--chat-port`, `SWITCHBOARD_CHAT_PORT`; 0 picks a free port.
    package var chatPort = 9102
    /// `--notification-port`, `SWITCHBOARD_NOTIFICATION_PORT`; 0 picks a free port.
    package var notificationPort = 9103
    /// `--gateway`, `SWITCHBOARD_GATEWAY`: `host:port` of a node's Gateway API, or several
    /// separated by commas: a push goes through the first that answers.
    package var gateways: [GRPCEndpoint]
    /// `--push-secret`, `SWITCHBOARD_PUSH_SECRET`: the nodes' push secret.
    package var pushSecret: String
    /// `--backend-secret`, `SWITCHBOARD_BACKEND_SECRET`: what nodes send with each call; a
    /// call without it is refused, so that only a node can name the caller
    /// (`x-switchboard-user`). Unset: the one nodes derive from the push secret.
    package var backendSecret: String?

    /// The backend secret calls must carry.
    package var effectiveBackendSecret: String {
        backendSecret ?? SharedSecret.derived(from: pushSecret, purpose: .backendCalls)
    }
    /// `--tls-cert-file`, `--tls-key-file`: the services speak only gRPC over TLS;
    /// `--client-ca-file` makes it mutual: a node without a certificate from those
    /// authorities is refused in the handshake.
    package var tlsCertFile: String?
    package var tlsKeyFile: String?
    package var clientCAFile: String?
    /// `--gateway-ca-file` (and `--gateway-tls-cert-file`, `--gateway-tls-key-file` for a
    /// Gateway API that requires mutual TLS): pushes go over TLS.
    package var gatewayCAFile: String?
    package var gatewayTLSCertFile: String?
    package var gatewayTLSKeyFile: String?

    /// The services' TLS, when they have a certificate.
    package var tls: GRPCServerTLS? {
        guard let tlsCertFile, let tlsKeyFile else { return nil }
        return GRPCServerTLS(certFile: tlsCertFile, keyFile: tlsKeyFile, clientCAFile: clientCAFile)
    }
    /// TLS to the Gateway API, when an authority or a client certificate is set.
    package var gatewayTLS: GRPCClientTLS? {
        guard gatewayCAFile != nil || gatewayTLSCertFile != nil else { return nil }
        return GRPCClientTLS(caFile: gatewayCAFile, certFile: gatewayTLSCertFile, keyFile: gatewayTLSKeyFile)
    }
    /// Deadline of one push through the gateway, including the wait for its connection.
    package var pushTimeout: Duration = .seconds(2)

    package init(gateway: GRPCEndpoint, pushSecret: String) {
        self.init(gateways: [gateway], pushSecret: pushSecret)
    }

    package init(gateways: [GRPCEndpoint], pushSecret: String) {
        precondition(!gateways.isEmpty, "at least one gateway")
        self.gateways = gateways
        self.pushSecret = pushSecret
    }
}
