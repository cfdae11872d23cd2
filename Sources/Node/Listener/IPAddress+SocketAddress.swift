import Essentials
import NIOCore

extension IPAddress {
    /// A connection's peer address (nil for a Unix socket).
    init?(_ address: SocketAddress) {
        guard let text = address.ipAddress else { return nil }
        self.init(text)
    }
}
