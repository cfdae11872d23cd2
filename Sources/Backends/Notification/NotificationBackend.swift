import Essentials
import GRPCCore
import Logging
import SwiftProtobuf
import SwitchboardProtocol

/// The Notification service: stores notifications per user and pushes each to its user
/// when they are online.
struct NotificationBackend: Switchboard_Notification_V1_NotificationService.ServiceProtocol {
    let store = NotificationStore()
    let gateway: GatewayPusher
    let logger: Logger

    func listNotifications(
        request: ServerRequest<Switchboard_Notification_V1_ListNotificationsRequest>, context: ServerContext
    ) async throws -> ServerResponse<Switchboard_Notification_V1_ListNotificationsResponse> {
        let user = try CallerIdentity.user(of: request.metadata)
        var response = Switchboard_Notification_V1_ListNotificationsResponse()
        response.notifications = await store.list(for: user, unreadOnly: request.message.unreadOnly)
        response.unread = Int32(await store.list(for: user, unreadOnly: true).count)
        return ServerResponse(message: response)
    }

    func markRead(
        request: ServerRequest<Switchboard_Notification_V1_MarkReadRequest>, context: ServerContext
    ) async throws -> ServerResponse<Switchboard_Notification_V1_MarkReadResponse> {
        let user = try CallerIdentity.user(of: request.metadata)
        var response = Switchboard_Notification_V1_MarkReadResponse()
        response.updated = Int32(await store.markRead(for: user, ids: Set(request.message.ids)))
        return ServerResponse(message: response)
    }

    /// For other backends: not behind a client route, so no caller identity is needed.
    func createNotification(
        request: ServerRequest<Switchboard_Notification_V1_CreateNotificationRequest>, context: ServerContext
    ) async throws -> ServerResponse<Switchboard_Notification_V1_CreateNotificationResponse> {
        let message = request.message
        try CallerIdentity.check(message.user, field: "user")
        guard !message.title.isEmpty else { throw RPCError(code: .invalidArgument, message: "title is required") }
        let notification = await store.create(for: message.user, title: message.title, body: message.body, at: WallClock.milliseconds)
        var response = Switchboard_Notification_V1_CreateNotificationResponse()
        response.notification = notification
        do {
            let data = try notification.pushData()
            response.pushed = !(try await gateway.push(to: message.user, from: "notification", kind: "notification", data: data).offline)
        } catch {
            logger.warning("notification push failed", metadata: ["user": "\(message.user.debugDescription)", "error": "\(error)"])
        }
        return ServerResponse(message: response)
    }
}
