import Crypto

/// Secrets the nodes share with token issuers and backends: fresh ones, and the
/// placeholders this repository ships, which a node refuses to run with.
package enum SharedSecret {
    /// 32 random bytes, base64url without padding (43 characters): `switchboard secret`.
    package static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64url((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// A secret of its own for `purpose`, made from `secret` (HMAC-SHA256, base64url):
    /// whoever holds it cannot work back to `secret`. The backends' default secret is the
    /// push secret's, so a backend that receives calls cannot push to anyone with it.
    package static func derived(from secret: String, purpose: Purpose) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array(purpose.rawValue.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return base64url(Array(code))
    }

    /// What a derived secret is for; each gives another secret.
    package enum Purpose: String, Sendable {
        /// Sent by nodes with every backend call, made from the push secret.
        case backendCalls = "switchboard backend calls v1"
        /// Signs the tokens a `--dev` node mints at /demo/token, made from the JWT secret.
        case developmentTokens = "switchboard development tokens v1"
    }

    private static func base64url(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            let characters = chunk.count + 1
            for position in 0..<characters { out.append(alphabet[Int((value >> (18 - 6 * UInt32(position))) & 63)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Why `secret` must not be used, when it is a placeholder: one of the values the
    /// deployment files and examples ship, or any value that says to replace it.
    package static func placeholderProblem(_ secret: String) -> String? {
        let lowered = secret.lowercased()
        let shipped = shippedPlaceholders.contains(secret)
        guard shipped || ["replace-me", "change-me", "changeme", "not-for-production"].contains(where: lowered.contains) else { return nil }
        return "is a placeholder, not a secret (anyone can read it in Switchboard's repository); generate one with `switchboard secret`"
    }

    /// Every placeholder the repository has shipped (compose defaults, the Kubernetes
    /// Secret, the local cluster's old default): refused even where the words above are gone.
    static let shippedPlaceholders: Set<String> = [
        "compose-trial-jwt-secret-not-for-production", "compose-trial-push-secret",
        "replace-me-with-32-or-more-random-bytes", "replace-me-with-a-push-secret",
        "switchboard-development-secret-change-me", "switchboard-development-push-secret",
    ]
}
