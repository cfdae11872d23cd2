/// Where settings' text comes from besides the environment: a command's arguments and a
/// config file.
package enum SettingSources {
    /// `--key value` and `--key=value` pairs.
    package static func flags(_ arguments: [String]) throws(ConfigurationError) -> [String: String] {
        var flags: [String: String] = [:]
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw ConfigurationError(key: argument, problem: "expected --setting value")
            }
            let name = argument.dropFirst(2)
            if let equals = name.firstIndex(of: "=") {
                flags[String(name[..<equals])] = String(name[name.index(after: equals)...])
            } else if let value = rest.popFirst() {
                flags[String(name)] = value
            } else {
                throw ConfigurationError(key: argument, problem: "needs a value")
            }
        }
        return flags
    }

    /// A config file's `key = value` lines; `#` starts a comment, blank lines are skipped.
    package static func fileLines(_ text: String, path: String) throws(ConfigurationError) -> [String: String] {
        var values: [String: String] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = content.trimmingSpaces
            guard !trimmed.isEmpty else { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw ConfigurationError(key: "\(path):\(number + 1)", problem: "expected 'key = value', got '\(trimmed)'")
            }
            values[trimmed[..<equals].trimmingSpaces] = trimmed[trimmed.index(after: equals)...].trimmingSpaces
        }
        return values
    }
}
