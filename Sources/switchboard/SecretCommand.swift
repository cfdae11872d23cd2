import ArgumentParser
import Auth

/// `switchboard secret`: a fresh random secret for `--jwt-secret` or `--push-secret`.
struct SecretCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret",
        abstract: "Print a fresh random secret (32 bytes, base64url) for --jwt-secret or --push-secret."
    )

    func run() {
        print(SharedSecret.generate())
    }
}
