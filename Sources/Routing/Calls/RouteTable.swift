import GRPCCore
import SwitchboardProtocol

/// The client call names a node serves, and the backend method behind each.
package struct RouteTable: Sendable {
    private let routes: [String: Route]

    package init(_ routes: [Route]) {
        self.routes = Dictionary(routes.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    package subscript(name: String) -> Route? { routes[name] }

    /// Every route with `timeout` as its deadline.
    package func withTimeout(_ timeout: Duration) -> RouteTable {
        RouteTable(routes.values.map { $0.withTimeout(timeout) })
    }

    /// Every route name, sorted: for documentation and errors.
    package var names: [String] { routes.keys.sorted() }

    /// Switchboard's routes to the Location, Chat and Notification backends.
    package static let standard = RouteTable([
        .unary("location.update", backend: "location", timeout: .seconds(2)) {
            (client, request: Switchboard_Location_V1_UpdateLocationRequest, metadata, options) in
            try await Switchboard_Location_V1_LocationService.Client(wrapping: client)
                .updateLocation(request, metadata: metadata, options: options)
        },
        .unary("location.get", backend: "location", timeout: .seconds(2)) {
            (client, request: Switchboard_Location_V1_GetLocationRequest, metadata, options) in
            try await Switchboard_Location_V1_LocationService.Client(wrapping: client)
                .getLocation(request, metadata: metadata, options: options)
        },
        .unary("location.nearby", backend: "location", timeout: .seconds(3)) {
            (client, request: Switchboard_Location_V1_NearbyRequest, metadata, options) in
            try await Switchboard_Location_V1_LocationService.Client(wrapping: client)
                .nearby(request, metadata: metadata, options: options)
        },
        .unary("chat.send", backend: "chat", timeout: .seconds(3)) {
            (client, request: Switchboard_Chat_V1_SendMessageRequest, metadata, options) in
            try await Switchboard_Chat_V1_ChatService.Client(wrapping: client)
                .sendMessage(request, metadata: metadata, options: options)
        },
        .unary("chat.history", backend: "chat", timeout: .seconds(3)) {
            (client, request: Switchboard_Chat_V1_HistoryRequest, metadata, options) in
            try await Switchboard_Chat_V1_ChatService.Client(wrapping: client)
                .history(request, metadata: metadata, options: options)
        },
        .unary("notification.list", backend: "notification", timeout: .seconds(2)) {
            (client, request: Switchboard_Notification_V1_ListNotificationsRequest, metadata, options) in
            try await Switchboard_Notification_V1_NotificationService.Client(wrapping: client)
                .listNotifications(request, metadata: metadata, options: options)
        },
        .unary("notification.markRead", backend: "notification", timeout: .seconds(2)) {
            (client, request: Switchboard_Notification_V1_MarkReadRequest, metadata, options) in
            try await Switchboard_Notification_V1_NotificationService.Client(wrapping: client)
                .markRead(request, metadata: metadata, options: options)
        },
    ])
}
