import ArgumentParser
import Auth
import GRPCCore
import GRPCSupport
import SwitchboardProtocol

/// `switchboard notify`: creates a notification through the Notification service, as
/// another backend would; the service stores it and pushes it to the user if online.
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Create a notification for a user through the Notification service (it pushes it if they are online)."
    )

    @Option(help: "The user to notify.")
    var user: String
    @Option(help: "The notification's title.")
    var title: String
    @Option(help: "The notification's body.")
    var body: String = ""
    @Option(help: "host:port of the Notification service (SWITCHBOARD_NOTIFICATION_BACKEND; default 127.0.0.1:9103).")
    var notificationBackend: String?
    @Option(help: "The backends' secret (SWITCHBOARD_BACKEND_SECRET; else the one derived from SWITCHBOARD_PUSH_SECRET, as the backends do).")
    var backendSecret: String?

    func run() async throws {
        let address = notificationBackend ?? ProcessEnvironment.current["SWITCHBOARD_NOTIFICATION_BACKEND"] ?? "127.0.0.1:9103"
        guard let endpoint = GRPCEndpoint(address) else { throw ValidationError("--notification-backend must be host:port, got '\(address)'") }
        let environment = ProcessEnvironment.current
        let pushSecret = environment["SWITCHBOARD_PUSH_SECRET"].map { SharedSecret.derived(from: $0, purpose: .backendCalls) }
        guard let secret = backendSecret ?? environment["SWITCHBOARD_BACKEND_SECRET"] ?? pushSecret, !secret.isEmpty else {
            throw ValidationError("no backend secret: pass --backend-secret or set SWITCHBOARD_BACKEND_SECRET (or SWITCHBOARD_PUSH_SECRET, from which the backends derive theirs unless they run with their own)")
        }
        var request = Switchboard_Notification_V1_CreateNotificationRequest()
        request.user = user
        request.title = title
        request.body = body
        let client = try endpoint.makeClient()
        let response = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.runConnections() }
            defer { client.beginGracefulShutdown() }
            return try await Switchboard_Notification_V1_NotificationService.Client(wrapping: client).createNotification(request, metadata: .bearer(secret))
        }
        print("notification \(response.notification.id) for \(user): \(response.pushed ? "pushed" : "stored (the user is offline)")")
    }
}
