#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import SwiftProtobuf
import SwitchboardWire

/// Connection expiry: a node closes a connection when its token expires (4001) unless a
/// fresh one arrived in band first (`switchboard.refresh`, docs/protocol.md).
extension SwitchboardClient {
    /// The shortest time between two in-band refreshes of one connection: near the expiry
    /// the lead shrinks towards nothing.
    static let minimumRefreshGap = Duration.seconds(1)

    /// Sends the provider's fresh token a little before the connection's expires, for as
    /// long as the connection lives; returns only when cancelled (the socket ended). A
    /// provider whose token expires no later than the connection's (a cached one) is not
    /// asked again on this connection: it ends at the expiry (4001) and the reconnect asks
    /// for a fresh token.
    func keepTokenFresh() async throws {
        guard (try? await connected()) != nil, case .provider(let provide) = configuration.token,
              var expiresAtMs = welcome?.tokenExpiresAtMs
        else {
            return try await Self.sleepUntilCancelled()
        }
        while true {
            let remaining = expiresAtMs - Int64(Date().timeIntervalSince1970 * 1000)
            let lead = min(30_000, max(remaining / 4, 0))
            try await Task.sleep(for: max(.milliseconds(remaining - lead), Self.minimumRefreshGap))
            do {
                var frame = Switchboard_V1_ClientFrame()
                frame.call = GatewayCall.refresh.rawValue
                frame.data = .init(structValue: ["token": .init(stringValue: try await provide(false))])
                let answer = try await exchange(frame, timeout: nil).ok.structValue.fields
                guard let next = answer["expiresAtMs"]?.numberValue, Int64(next) > expiresAtMs else {
                    logger.warning("the token provider returned a token that expires no later than the connection's; it ends at the expiry and reconnects with a fresh token")
                    return try await Self.sleepUntilCancelled()
                }
                expiresAtMs = Int64(next)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // The node closes at the expiry (4001), and the reconnect asks for a fresh token.
                logger.warning("the token could not be refreshed in band", metadata: ["error": "\(error)"])
                return try await Self.sleepUntilCancelled()
            }
        }
    }

    private static func sleepUntilCancelled() async throws {
        try await Task.sleep(for: .seconds(365 * 86_400))
    }
}
