import Auth
import Testing

@Suite("Shared secrets")
struct SharedSecretTests {
    @Test("a fresh secret is 32 random bytes in base64url; no two alike")
    func generate() {
        let secrets = (0..<100).map { _ in SharedSecret.generate() }
        #expect(Set(secrets).count == 100)
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        #expect(secrets.allSatisfy { $0.count == 43 && $0.allSatisfy(alphabet.contains) })
        #expect(secrets.allSatisfy { SharedSecret.placeholderProblem($0) == nil })
    }

    @Test("the placeholders the repository shipped, and any value that says to replace it, are refused")
    func placeholders() {
        for placeholder in [
            "replace-me-with-32-or-more-random-bytes", "compose-trial-push-secret", "switchboard-development-push-secret",
            "our-own-CHANGE-ME-secret-0123456789abcdef", "changeme-changeme-changeme-changeme",
        ] {
            #expect(SharedSecret.placeholderProblem(placeholder)?.contains("switchboard secret") == true, "\(placeholder)")
        }
        #expect(SharedSecret.placeholderProblem("javascript-tests-secret-at-least-32-bytes") == nil)
    }
}
