/// A configuration value that cannot be used, with the key to fix.
package struct ConfigurationError: Error, CustomStringConvertible {
    package let key: String
    package let problem: String

    package init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    package var description: String { "invalid configuration \(key): \(problem)" }
}
