import Essentials
import GRPCCore
import Logging
import SwiftProtobuf
import SwitchboardProtocol

/// The Chat service: stores each message and delivers it to the recipient through the
/// Gateway API, so it reaches them on whichever node they are connected to.
struct ChatBackend: Switchboard_Chat_V1_ChatService.ServiceProtocol {
    let store = ChatStore()
    let gateway: GatewayPusher
    let logger: Logger

    func sendMessage(
        request: ServerRequest<Switchboard_Chat_V1_SendMessageRequest>, context: ServerContext
    ) async throws -> ServerResponse<Switchboard_Chat_V1_SendMessageResponse> {
        let sender = try CallerIdentity.user(of: request.metadata)
        let message = request.message
        try CallerIdentity.check(message.to, field: "to")
        guard !message.text.isEmpty else { throw RPCError(code: .invalidArgument, message: "text is required") }
        guard message.text.utf8.count <= ChatStore.maxTextBytes else {
            throw RPCError(code: .invalidArgument, message: "text is at most \(ChatStore.maxTextBytes) bytes")
        }
        let stored = await store.append(from: sender, to: message.to, text: message.text, at: WallClock.milliseconds)

        var response = Switchboard_Chat_V1_SendMessageResponse()
        response.messageID = stored.id
        response.sentAtMs = stored.sentAtMs
        do {
            let data = try stored.pushData()
            let outcome = try await gateway.push(to: message.to, from: sender, kind: "chat.message", data: data, causedBy: sender)
            response.delivered = !outcome.offline
        } catch {
            // The message is stored either way; the recipient finds it in history.
            // Client text is never logged as is: `to` goes in quoted and escaped.
            logger.warning("chat push failed", metadata: ["to": "\(message.to.debugDescription)", "error": "\(error)"])
        }
        return ServerResponse(message: response)
    }

    func history(
        request: ServerRequest<Switchboard_Chat_V1_HistoryRequest>, context: ServerContext
    ) async throws -> ServerResponse<Switchboard_Chat_V1_HistoryResponse> {
        let caller = try CallerIdentity.user(of: request.metadata)
        try CallerIdentity.check(request.message.with, field: "with")
        var response = Switchboard_Chat_V1_HistoryResponse()
        let limit = min(request.message.limit > 0 ? Int(request.message.limit) : 100, ChatStore.maxHistory)
        response.messages = await store.history(between: caller, and: request.message.with, limit: limit)
        return ServerResponse(message: response)
    }
}
