import Auth
import Logging
import Synchronization

/// The token checker in use: swapped when the identity provider's keys change
/// (`JWKSReloadService`); new connections and in-band refreshes use whichever is current.
final class CurrentAuthenticator: Sendable {
    private let value: Mutex<TokenAuthenticator>
    private let logger: Logger

    init(_ authenticator: TokenAuthenticator, logger: Logger) {
        value = Mutex(authenticator)
        self.logger = logger
        logSkippedKeys(authenticator)
    }

    var current: TokenAuthenticator { value.withLock { $0 } }

    /// Puts a new token checker in place.
    func replace(with authenticator: TokenAuthenticator) {
        logSkippedKeys(authenticator)
        value.withLock { $0 = authenticator }
    }

    /// A JWKS key the node will not verify with is said once per load, never silently.
    private func logSkippedKeys(_ authenticator: TokenAuthenticator) {
        for reason in authenticator.skippedKeys {
            logger.warning("a JWKS key is left out", metadata: ["reason": "\(reason)"])
        }
    }
}
