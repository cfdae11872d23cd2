#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import SwiftProtobuf
import SwitchboardProtocol

/// Connection expiry: a node closes a connection when its token expires (4001) unless a
/// fresh one arrived in band first (`switchboard.refresh`, docs/protocol.md).
extension SwitchboardClient {
    /// Sends the provider's fresh token a little before the connection's expires, for as
    /// long as the connection lives; returns only when cancelled (the socket ended).
    func keepTokenFresh(welcomed: OnceFlag) async throws {
        while !welcomed.isSet { try await Task.sleep(for: .milliseconds(20)) }
        guard case .provider(let provide) = configuration.token, var expiresAtMs = welcome?.tokenExpiresAtMs else {
            return try await Self.sleepUntilCancelled()
        }
        while true {
            let remaining = expiresAtMs - Int64(Date().timeIntervalSince1970 * 1000)
            let lead = min(30_000, max(remaining / 4, 0))
            try await Task.sleep(for: .milliseconds(max(remaining - lead, 0)))
            do {
                var frame = Switchboard_V1_ClientFrame()
                frame.call = "switchboard.refresh"
                frame.data = .init(structValue: ["token": .init(stringValue: try await provide(false))])
                let answer = try await exchange(frame, timeout: nil).ok.structValue.fields
                guard let next = answer["expiresAtMs"]?.numberValue, next > 0 else { return try await Self.sleepUntilCancelled() }
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
