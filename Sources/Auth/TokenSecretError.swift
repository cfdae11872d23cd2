/// A token secret too short for HS256; the node reports it as its `jwt-secret` setting.
public struct TokenSecretError: Error, CustomStringConvertible {
    public init() {}

    public var description: String {
        "must be at least \(TokenAuthenticator.minimumSecretBytes) bytes long for HS256"
    }
}
