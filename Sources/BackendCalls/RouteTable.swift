import GRPCCore
import SwitchboardProtocol

/// The client call names a node serves, and the backend method behind each.
package struct RouteTable: Sendable {
    private let routes: [String: BackendRoute]

    package init(_ routes: [BackendRoute]) {
        self.routes = Dictionary(routes.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    package subscript(name: String) -> BackendRoute? { routes[name] }

    /// Every route with `timeout` as its deadline.
    package func withTimeout(_ timeout: Duration) -> RouteTable {
        RouteTable(routes.values.map { $0.withTimeout(timeout) })
    }

    /// Every route name, sorted: for documentation and errors.
    package var names: [String] { routes.keys.sorted() }

    /// Switchboard's routes to the Location, Chat and Notification backends.
    package static let standard = RouteTable([
        .unary(.locationUpdate, backend: "location", timeout: .seconds(2)) { client, request, metadata, options in
            try await Switchboard_Location_V1_LocationService.Client(wrapping: client)
                .updateLocation(request, metadata: metadata, options: options)
        },
        .unary(.locationGet, backend: "location", timeout: .seconds(2)) { client, request, metadata, options in
            try await Switchboard_Location_V1_LocationService.Client(wrapping: client)
                .getLocation(request, metadata: metadata, options: options)
        },
        .unary(.locationNearby, backend: "location", timeout: .seconds(3)) { client, request, metadata, options in
            try await Switchboard_Location_V1_LocationService.Client(wrapping: client)
                .nearby(request, metadata: metadata, options: options)
        },
        .unary(.chatSend, backend: "chat", timeout: .seconds(3)) { client, request, metadata, options in
            try await Switchboard_Chat_V1_ChatService.Client(wrapping: client)
                .sendMessage(request, metadata: metadata, options: options)
        },
        .unary(.chatHistory, backend: "chat", timeout: .seconds(3)) { client, request, metadata, options in
            try await Switchboard_Chat_V1_ChatService.Client(wrapping: client)
                .history(request, metadata: metadata, options: options)
        },
        .unary(.notificationList, backend: "notification", timeout: .seconds(2)) { client, request, metadata, options in
            try await Switchboard_Notification_V1_NotificationService.Client(wrapping: client)
                .listNotifications(request, metadata: metadata, options: options)
        },
        .unary(.notificationMarkRead, backend: "notification", timeout: .seconds(2)) { client, request, metadata, options in
            try await Switchboard_Notification_V1_NotificationService.Client(wrapping: client)
                .markRead(request, metadata: metadata, options: options)
        },
    ])
}
