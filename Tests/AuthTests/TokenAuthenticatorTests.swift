import Auth
import Testing

@Suite("Tokens")
struct TokenAuthenticatorTests {
    static let secret = String(repeating: "s", count: 32)

    @Test("an issued token names its user; one signed with another secret, expired or malformed is refused saying why")
    func issueAndVerify() async throws {
        let authenticator = try await TokenAuthenticator(secret: Self.secret)
        let token = try await authenticator.issue(user: "zoë", validFor: .seconds(60))
        #expect(try await authenticator.authenticate(token: token) == "zoë")

        let forged = try await TokenAuthenticator(secret: String(repeating: "x", count: 32)).issue(user: "zoë", validFor: .seconds(60))
        await #expect { _ = try await authenticator.authenticate(token: forged) } throws: { error in
            guard case .invalid = error as? AuthenticationError else { return false }
            return true
        }
        let expired = try await authenticator.issue(user: "zoë", validFor: .seconds(-60))
        await #expect(throws: AuthenticationError.expired) { _ = try await authenticator.authenticate(token: expired) }
        await #expect { _ = try await authenticator.authenticate(token: "not-a-jwt") } throws: { error in
            guard case .invalid = error as? AuthenticationError else { return false }
            return true
        }
    }

    @Test("a secret shorter than 32 bytes is refused")
    func shortSecret() async throws {
        await #expect(throws: TokenSecretError.self) { _ = try await TokenAuthenticator(secret: String(repeating: "s", count: 31)) }
        _ = try await TokenAuthenticator(secret: Self.secret)
    }
}
