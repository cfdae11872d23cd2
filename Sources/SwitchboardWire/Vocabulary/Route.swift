public import SwiftProtobuf

/// A backend route with its typed request and response (the messages of `Protos/`): the
/// one list of routes, which clients call by and nodes build their route table from.
public struct Route<Request: SwiftProtobuf.Message & Sendable, Response: SwiftProtobuf.Message & Sendable>: Sendable {
    /// What goes in the frame's `call`, e.g. `chat.send`.
    public let name: String

    public init(_ name: String) {
        self.name = name
    }
}

extension Route where Request == Switchboard_Chat_V1_SendMessageRequest, Response == Switchboard_Chat_V1_SendMessageResponse {
    public static var chatSend: Self { Self("chat.send") }
}

extension Route where Request == Switchboard_Chat_V1_HistoryRequest, Response == Switchboard_Chat_V1_HistoryResponse {
    public static var chatHistory: Self { Self("chat.history") }
}

extension Route where Request == Switchboard_Location_V1_UpdateLocationRequest, Response == Switchboard_Location_V1_UpdateLocationResponse {
    public static var locationUpdate: Self { Self("location.update") }
}

extension Route where Request == Switchboard_Location_V1_GetLocationRequest, Response == Switchboard_Location_V1_UserLocation {
    public static var locationGet: Self { Self("location.get") }
}

extension Route where Request == Switchboard_Location_V1_NearbyRequest, Response == Switchboard_Location_V1_NearbyResponse {
    public static var locationNearby: Self { Self("location.nearby") }
}

extension Route where Request == Switchboard_Notification_V1_ListNotificationsRequest, Response == Switchboard_Notification_V1_ListNotificationsResponse {
    public static var notificationList: Self { Self("notification.list") }
}

extension Route where Request == Switchboard_Notification_V1_MarkReadRequest, Response == Switchboard_Notification_V1_MarkReadResponse {
    public static var notificationMarkRead: Self { Self("notification.markRead") }
}
