import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// Request context of the node's HTTP and WebSocket routes.
///
/// Keeps the channel, so a slow consumer's socket can be dropped without waiting on its
/// write pump, and the handshake, so the token is checked once, before the upgrade.
struct GatewayRequestContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<GatewayRequestContext>
    let channel: any Channel
    let handshake: Handshake

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
        handshake = Handshake()
    }
}
