import GRPCSupport

/// Where the reference backends listen and which gateway they push through.
/// `switchboard backends` reads each key from a flag or `SWITCHBOARD_*` variable.
public struct BackendsConfiguration: Sendable {
    /// `--host`, `SWITCHBOARD_BACKENDS_HOST`: address the three services bind.
    public var host = "127.0.0.1"
    /// `--location-port`, `SWITCHBOARD_LOCATION_PORT`; 0 picks a free port.
    public var locationPort = 9101
    /// `--chat-port`, `SWITCHBOARD_CHAT_PORT`; 0 picks a free port.
    public var chatPort = 9102
    /// `--notification-port`, `SWITCHBOARD_NOTIFICATION_PORT`; 0 picks a free port.
    public var notificationPort = 9103
    /// `--gateway`, `SWITCHBOARD_GATEWAY`: `host:port` of a node's Gateway API.
    public var gateway: GRPCEndpoint
    /// `--push-secret`, `SWITCHBOARD_PUSH_SECRET`: the nodes' push secret.
    public var pushSecret: String
    /// Deadline of one push through the gateway, including the wait for its connection.
    public var pushTimeout: Duration = .seconds(2)

    public init(gateway: GRPCEndpoint, pushSecret: String) {
        self.gateway = gateway
        self.pushSecret = pushSecret
    }
}
