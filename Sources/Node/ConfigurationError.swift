/// A configuration value that cannot be used, with the key to fix.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let key: String
    public let problem: String

    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String { "invalid configuration \(key): \(problem)" }
}
