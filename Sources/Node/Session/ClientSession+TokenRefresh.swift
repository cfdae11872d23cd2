import Routing
import SwitchboardProtocol
import CoreMetrics
import Auth
import SwiftProtobuf

/// `switchboard.refresh`: a fresh token for the same user, sent on the open connection
/// before the old one expires, moves the connection's expiry (else it is closed with 4001).
extension ClientSession {
    static let refreshCall = GatewayCall.refresh.rawValue

    /// `{"token": "…"}` → `{"expiresAtMs": …}`.
    func prepareTokenRefresh(id: String, arguments: Google_Protobuf_Value) -> (@Sendable () async -> Void)? {
        guard case .stringValue(let token)? = arguments.structValue.fields["token"]?.kind, !token.isEmpty else {
            reply(to: id, error: .invalidArgument, "\(Self.refreshCall): token must be the fresh token, a string")
            return nil
        }
        let session = self
        return {
            let verified: VerifiedToken
            do {
                verified = try await session.services.authentication.current.verify(token: token)
            } catch {
                session.services.metrics.authFailures.increment()
                session.reply(to: id, error: .unauthenticated, "\(Self.refreshCall): \(error); the connection keeps its old expiry")
                return
            }
            guard verified.user == session.connection.user else {
                session.reply(to: id, error: .permissionDenied, "\(Self.refreshCall): the token names another user")
                return
            }
            session.connection.tokenExpiry.set(expiresAtMs: verified.expiresAtMs)
            // What the connection may do follows the token it holds now.
            session.connection.isAdmin = verified.isAdmin
            session.connection.topics.grants = TopicGrants(verified.topics)
            session.reply(to: id, ok: .init(structValue: ["expiresAtMs": .init(numberValue: Double(verified.expiresAtMs))]))
        }
    }
}
