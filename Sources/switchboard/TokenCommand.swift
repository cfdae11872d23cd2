import ArgumentParser
import Auth
import Node

/// `switchboard token`: prints a client token, for trying the gateway out and for tests.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a client token (JWT, HS256) for a user."
    )

    @Option(help: "The user id (the token's sub).")
    var user: String
    @Option(help: "How long the token is valid: 90s, 15m, 1h, 7d, or seconds.")
    var ttl: String = "1h"
    @Option(help: "HS256 secret (SWITCHBOARD_JWT_SECRET); must match the nodes'.")
    var jwtSecret: String?
    @Flag(help: "Add the admin claim: the holder may watch the cluster on /dashboard.")
    var admin = false
    @Option(help: "Topics the holder may use where a namespace's rule is claim: comma-separated names, or prefixes ending in * (room:*).")
    var topics: String = ""

    func run() async throws {
        guard let secret = jwtSecret ?? ProcessEnvironment.current["SWITCHBOARD_JWT_SECRET"], !secret.isEmpty else {
            throw ValidationError("no secret: pass --jwt-secret or set SWITCHBOARD_JWT_SECRET")
        }
        guard !user.isEmpty else { throw ValidationError("--user must not be empty") }
        guard let validFor = Self.parseDuration(ttl) else {
            throw ValidationError("invalid --ttl '\(ttl)': use a number with s, m, h or d (e.g. 1h)")
        }
        let grants = topics.split(separator: ",").map { String($0) }
        print(try await TokenAuthenticator(secret: secret).issue(user: user, validFor: validFor, admin: admin, topics: grants))
    }

    static func parseDuration(_ text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let last = text.last, let unit = units[last], let value = Int64(text.dropLast()), value > 0 {
            return .seconds(value * unit)
        }
        if let value = Int64(text), value > 0 { return .seconds(value) }
        return nil
    }
}
