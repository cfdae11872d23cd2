/// A token secret too short for HS256; the node reports it as its `jwt-secret` setting.
package struct TokenSecretError: Error, CustomStringConvertible {
    package init() {}

    package var description: String {
        "must be at least \(TokenAuthenticator.minimumSecretBytes) bytes long for HS256"
    }
}
