import HTTPTypes
import Logging
import NIOCore
import NIOWebSocket
import WSClient

/// One load-generator connection: a real WebSocket client whose handler the scenario
/// supplies. Connect errors are reported, never swallowed.
enum BenchClient {
    static func configuration(token: String, format: BenchFormat) -> WebSocketClientConfiguration {
        // A short close timeout: a generator that stops must not wait 15 s per socket.
        var configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 20, closeTimeout: .seconds(1), autoPing: .disabled, validateUTF8: false)
        configuration.additionalHeaders[.authorization] = "Bearer \(token)"
        configuration.additionalHeaders[.secWebSocketProtocol] = format.subprotocol
        return configuration
    }

    static let logger: Logger = {
        var logger = Logger(label: "switchboard.bench")
        logger.logLevel = .critical
        return logger
    }()
}
