#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JWTKit

/// The signature keys of a JWKS document, each pinned to one algorithm before jwt-kit sees
/// it. jwt-kit builds the signer of a key without `alg` from the first token header that
/// names it and keeps it, so one unauthenticated request could pin a provider's RS256 key
/// to RS512 until the node restarts. Here a key without `alg` gets its family's standard one
/// (RSA: RS256, EC: ES256/384/512 by curve, OKP Ed25519: EdDSA); keys that are not for
/// signatures (`use` other than `sig`, `key_ops` without `verify`), symmetric keys and
/// unknown types are left out, each with its reason, instead of failing the whole set.
struct JWKSKeys {
    struct Key {
        let kid: String?
        let algorithm: String
        let jwk: JWK
    }

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    private(set) var keys: [Key] = []
    /// Why each left-out key was left out.
    private(set) var skipped: [String] = []

    init(json: String) throws(Invalid) {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(json.utf8))
        } catch {
            throw Invalid(description: "not a JSON object with a \"keys\" array: \(error)")
        }
        for (index, entry) in document.keys.enumerated() {
            let name = entry.kid.map { "key '\($0)'" } ?? "key \(index)"
            switch entry.algorithm {
            case .failure(let reason):
                skipped.append("\(name): \(reason.description)")
            case .success(let algorithm):
                guard var jwk = entry.jwk, let pinned = JWK.Algorithm(rawValue: algorithm) else {
                    skipped.append("\(name): \(entry.jwkError ?? "not a key jwt-kit reads")")
                    continue
                }
                jwk.algorithm = pinned
                keys.append(Key(kid: entry.kid, algorithm: algorithm, jwk: jwk))
            }
        }
        guard !keys.isEmpty else {
            throw Invalid(description: "no usable signature key" + (skipped.isEmpty ? "" : " (\(skipped.joined(separator: "; ")))"))
        }
    }

    private struct Document: Decodable {
        let keys: [Entry]
    }

    /// One key as written, read leniently: a key jwt-kit cannot read is one skipped key.
    private struct Entry: Decodable {
        let kid: String?
        let algorithm: Result<String, Invalid>
        let jwk: JWK?
        let jwkError: String?

        private enum Field: String, CodingKey {
            case kid, kty, crv, alg, use
            case operations = "key_ops"
        }

        init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: Field.self)
            kid = try? fields.decodeIfPresent(String.self, forKey: .kid)
            algorithm = Self.algorithm(
                type: (try? fields.decodeIfPresent(String.self, forKey: .kty)) ?? "", curve: try? fields.decodeIfPresent(String.self, forKey: .crv),
                declared: try? fields.decodeIfPresent(String.self, forKey: .alg), use: try? fields.decodeIfPresent(String.self, forKey: .use),
                operations: try? fields.decodeIfPresent([String].self, forKey: .operations)
            )
            do {
                jwk = try JWK(from: decoder)
                jwkError = nil
            } catch {
                jwk = nil
                jwkError = "\(error)"
            }
        }

        /// The one algorithm a key verifies: its own `alg` when that fits its type, else
        /// its family's standard one.
        private static func algorithm(type: String, curve: String?, declared: String?, use: String?, operations: [String]?) -> Result<String, Invalid> {
            if let use, use != "sig" { return .failure(Invalid(description: "use '\(use)' is not for signatures")) }
            if let operations, !operations.contains("verify") {
                return .failure(Invalid(description: "key_ops \(operations) do not include verify"))
            }
            let allowed: [String]
            switch (type, curve) {
            case ("RSA", _): allowed = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
            case ("EC", "P-256"): allowed = ["ES256"]
            case ("EC", "P-384"): allowed = ["ES384"]
            case ("EC", "P-521"): allowed = ["ES512"]
            case ("OKP", "Ed25519"): allowed = ["EdDSA"]
            default: return .failure(Invalid(description: "kty '\(type)' is not a public signature key this node verifies"))
            }
            guard let declared else { return .success(allowed[0]) }
            guard allowed.contains(declared) else { return .failure(Invalid(description: "alg '\(declared)' does not fit kty '\(type)'")) }
            return .success(declared)
        }
    }
}
