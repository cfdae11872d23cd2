import Auth
import Essentials
import Foundation
import JWTKit
import Testing
import TestSupport

/// Tokens as identity providers issue them: RS256, ES256 and EdDSA keys from a JWKS,
/// selected by `kid`, with `iss`, `aud`, `nbf`, a leeway and a maximum lifetime. Keys are
/// made in the test (RSA and Ed25519 with Debian's openssl).
@Suite("Tokens from identity providers")
struct IdentityProviderTokenTests {
    /// The identity provider's side: private keys by kid, and the JWKS of their public halves.
    struct Provider {
        let signers = JWTKeyCollection()
        var jwks: [String] = []
        /// The RSA key's private half, to sign with it under another kid.
        var rsaPEM: String?

        static func make() async throws -> Provider {
            var provider = Provider()
            let es256 = ES256PrivateKey()
            let (x, y) = try #require(es256.publicKey.parameters)
            await provider.signers.add(ecdsa: es256, kid: "es-1")
            provider.jwks.append(#"{"kty":"EC","crv":"P-256","alg":"ES256","kid":"es-1","use":"sig","x":"\#(x)","y":"\#(y)"}"#)

            let rsaPEM = try openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
            provider.rsaPEM = rsaPEM
            await provider.signers.add(rsa: try Insecure.RSA.PrivateKey(pem: rsaPEM), digestAlgorithm: .sha256, kid: "rsa-1")
            let modulusHex = try openssl(["rsa", "-noout", "-modulus"], input: rsaPEM).trimmingCharacters(in: .whitespacesAndNewlines)
                .replacingOccurrences(of: "Modulus=", with: "")
            provider.jwks.append(#"{"kty":"RSA","alg":"RS256","kid":"rsa-1","use":"sig","n":"\#(base64URL(hex: modulusHex))","e":"AQAB"}"#)

            let edPEM = try openssl(["genpkey", "-algorithm", "ed25519"])
            await provider.signers.add(eddsa: try EdDSA.PrivateKey(pem: edPEM), kid: "ed-1")
            let edPublic = try opensslData(["pkey", "-pubout", "-outform", "DER"], input: edPEM).suffix(32)
            provider.jwks.append(#"{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"ed-1","use":"sig","x":"\#(base64URL(Data(edPublic)))"}"#)

            // Rotated out: the provider still has it, the JWKS no longer lists it.
            await provider.signers.add(ecdsa: ES256PrivateKey(), kid: "es-0")
            return provider
        }

        var jwksJSON: String { #"{"keys":[\#(jwks.joined(separator: ","))]}"# }

        func token(kid: String, user: String = "ivy", iss: String? = "https://idp.example", aud: [String]? = ["switchboard"],
                   issuedAt: Date = now, lifetime: TimeInterval = 600, notBefore: Date? = nil) async throws -> String {
            var claims = AccessTokenClaims(user: user, expiresAt: issuedAt.addingTimeInterval(lifetime), issuedAt: issuedAt)
            claims.iss = iss.map { IssuerClaim(value: $0) }
            claims.aud = aud.map { AudienceClaim(value: $0) }
            claims.nbf = notBefore.map { NotBeforeClaim(value: $0) }
            return try await signers.sign(claims, kid: JWKIdentifier(string: kid))
        }
    }

    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func authenticator(_ provider: Provider) async throws -> TokenAuthenticator {
        try await TokenAuthenticator(
            secret: nil, jwks: provider.jwksJSON,
            policy: TokenPolicy(issuer: "https://idp.example", audience: "switchboard", leeway: .seconds(5), maxLifetime: .seconds(3600), now: { now })
        )
    }

    @Test("RS256, ES256 and EdDSA tokens verify by their kid; a rotated-out key's token is refused")
    func keysByKid() async throws {
        let provider = try await Provider.make()
        let authenticator = try await Self.authenticator(provider)
        for kid in ["rsa-1", "es-1", "ed-1"] {
            #expect(try await authenticator.authenticate(token: try await provider.token(kid: kid)) == "ivy", "\(kid)")
        }
        await #expect(throws: AuthenticationError.self) { _ = try await authenticator.authenticate(token: try await provider.token(kid: "es-0")) }
    }

    @Test("iss, aud, nbf, exp with a leeway, and the longest lifetime are enforced, each saying why")
    func policy() async throws {
        let provider = try await Provider.make()
        let authenticator = try await Self.authenticator(provider)
        func refusal(_ token: String) async -> String? {
            do {
                _ = try await authenticator.authenticate(token: token)
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(await refusal(try await provider.token(kid: "es-1", iss: "https://other.example"))?.contains("iss 'https://other.example' is not an issuer this node accepts") == true)
        #expect(await refusal(try await provider.token(kid: "es-1", aud: ["someone-else"]))?.contains("aud does not include this node's audience") == true)
        #expect(await refusal(try await provider.token(kid: "es-1", notBefore: Self.now.addingTimeInterval(60)))?.contains("nbf") == true)
        #expect(await refusal(try await provider.token(kid: "es-1", notBefore: Self.now.addingTimeInterval(3))) == nil, "within the leeway")
        #expect(await refusal(try await provider.token(kid: "es-1", issuedAt: Self.now.addingTimeInterval(-603))) == nil, "expired 3 s ago: within the leeway")
        #expect(await refusal(try await provider.token(kid: "es-1", issuedAt: Self.now.addingTimeInterval(-700)))?.contains("expired") == true)
        #expect(await refusal(try await provider.token(kid: "es-1", lifetime: 7200))?.contains("more than the 3600 s allowed") == true)
    }
}

/// JWKS documents as some identity providers publish them: keys without `alg`, keys for
/// encryption, types this node does not verify.
@Suite("JWKS keys without alg, for encryption, or of unknown types")
struct JWKSKeyTests {
    typealias Provider = IdentityProviderTokenTests.Provider

    /// The provider's set with every `alg` removed, plus an encryption key (the RSA key
    /// again, signing as kid "rsa-enc"), a symmetric key and a type nobody knows.
    static func lenientSet(_ provider: Provider) async throws -> String {
        let withoutAlg = provider.jwks.map { key in
            ["RS256", "ES256", "EdDSA"].reduce(key) { $0.replacingOccurrences(of: #""alg":"\#($1)","#, with: "") }
        }
        let rsa = try #require(withoutAlg.first { $0.contains(#""kid":"rsa-1""#) })
        let extra = [
            rsa.replacingOccurrences(of: #""kid":"rsa-1""#, with: #""kid":"rsa-enc""#).replacingOccurrences(of: #""use":"sig""#, with: #""use":"enc""#),
            #"{"kty":"oct","kid":"sym","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}"#,
            #"{"kty":"XYZ","kid":"weird","foo":"bar"}"#,
        ]
        return #"{"keys":[\#((withoutAlg + extra).joined(separator: ","))]}"#
    }

    static func authenticator(jwks: String) async throws -> TokenAuthenticator {
        try await TokenAuthenticator(
            secret: nil, jwks: jwks,
            policy: TokenPolicy(issuer: "https://idp.example", audience: "switchboard", leeway: .seconds(5), now: { IdentityProviderTokenTests.now })
        )
    }

    @Test("keys without alg verify their family's algorithm; enc, symmetric and unknown keys are left out, saying why, and the rest of the set still works")
    func lenient() async throws {
        var provider = try await Provider.make()
        let jwks = try await Self.lenientSet(provider)
        #expect(!jwks.contains(#""alg""#), "no key in the set names its algorithm")
        let authenticator = try await Self.authenticator(jwks: jwks)
        for kid in ["rsa-1", "es-1", "ed-1"] {
            #expect(try await authenticator.authenticate(token: try await provider.token(kid: kid)) == "ivy", "\(kid)")
        }
        #expect(authenticator.skippedKeys.count == 3)
        #expect(authenticator.skippedKeys.contains { $0.contains("rsa-enc") && $0.contains("use 'enc'") })
        #expect(authenticator.skippedKeys.contains { $0.contains("sym") && $0.contains("kty 'oct'") })
        #expect(authenticator.skippedKeys.contains { $0.contains("weird") && $0.contains("kty 'XYZ'") })

        // A token signed by the encryption key is not verified by it.
        let rsaPEM = try #require(provider.rsaPEM)
        await provider.signers.add(rsa: try Insecure.RSA.PrivateKey(pem: rsaPEM), digestAlgorithm: .sha256, kid: "rsa-enc")
        await #expect(throws: AuthenticationError.self) { _ = try await authenticator.authenticate(token: try await provider.token(kid: "rsa-enc")) }
    }

    @Test("one request naming a real kid with another alg is refused, and cannot pin the key: real RS256 tokens still verify")
    func noPinning() async throws {
        let provider = try await Provider.make()
        let authenticator = try await Self.authenticator(jwks: try await Self.lenientSet(provider))
        let real = try await provider.token(kid: "rsa-1")
        let parts = real.split(separator: ".")
        for alg in ["RS512", "PS256", "HS256", "none"] {
            let header = base64URL(Data(#"{"alg":"\#(alg)","kid":"rsa-1","typ":"JWT"}"#.utf8))
            let forged = "\(header).\(parts[1]).\(parts[2])"
            await #expect { _ = try await authenticator.authenticate(token: forged) } throws: { error in
                guard case .invalid(let reason) = error as? AuthenticationError else { return false }
                return reason.contains("alg '\(alg)' does not match key 'rsa-1' (RS256)")
            }
        }
        #expect(try await authenticator.authenticate(token: real) == "ivy")
        #expect(try await authenticator.authenticate(token: try await provider.token(kid: "rsa-1", user: "jay")) == "jay")
    }

    @Test("a set with no usable signature key is refused, naming why each key was left out")
    func nothingUsable() async throws {
        await #expect { _ = try await Self.authenticator(jwks: #"{"keys":[{"kty":"XYZ","kid":"weird"}]}"#) } throws: { error in
            "\(error)".contains("no usable signature key") && "\(error)".contains("kty 'XYZ'")
        }
    }
}

/// `openssl …` with `input` on stdin; its output as text.
private func openssl(_ arguments: [String], input: String? = nil) throws -> String {
    String(decoding: try opensslData(arguments, input: input), as: UTF8.self)
}

private func opensslData(_ arguments: [String], input: String? = nil) throws -> Data {
    let process = ChildProcess.guarded()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    let output = Pipe()
    let stdin = Pipe()
    process.standardOutput = output
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw CocoaError(.fileReadUnknown) }
    return data
}

private func base64URL(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
}

private func base64URL(hex: String) -> String {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
        index = next
    }
    return base64URL(Data(bytes))
}
