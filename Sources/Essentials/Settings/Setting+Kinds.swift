/// The kinds of value settings hold, each with its reading, display and rule.
extension Setting {
    package typealias Path<Value> = WritableKeyPath<Root, Value> & Sendable

    package static func string(
        _ key: String, _ path: Path<String>, help: String, secret: Bool = false,
        check: @escaping @Sendable (String) -> String? = { _ in nil }
    ) -> Setting {
        Setting(
            key: key, help: help,
            read: { configuration, text, _ in configuration[keyPath: path] = text },
            show: { configuration in
                let value = configuration[keyPath: path]
                return value.isEmpty ? nil : secret ? "(set)" : value
            },
            check: { check($0[keyPath: path]) }
        )
    }

    /// A text that may be unset (a file path, an issuer), unset when empty; `pairedWith`
    /// names the setting it needs beside it (a certificate and its key), `needs` one it is
    /// meaningless without.
    package static func optional(
        _ key: String, _ path: Path<String?>,
        pairedWith partner: Path<String?>? = nil, _ partnerKey: String = "",
        needs required: Path<String?>? = nil, _ requiredKey: String = "",
        secret: Bool = false, help: String
    ) -> Setting {
        Setting(
            key: key, help: help,
            read: { configuration, text, _ in configuration[keyPath: path] = text.isEmpty ? nil : text },
            show: { configuration in configuration[keyPath: path].map { secret ? "(set)" : $0 } },
            check: { configuration in
                let isSet = configuration[keyPath: path] != nil
                if let partner, isSet != (configuration[keyPath: partner] != nil) {
                    return "needs --\(partnerKey) with it (and the other way round)"
                }
                if let required, isSet, configuration[keyPath: required] == nil { return "needs \(requiredKey)" }
                return nil
            }
        )
    }

    package static func integer(_ key: String, _ path: Path<Int>, help: String, in range: ClosedRange<Int>) -> Setting {
        Setting(
            key: key, help: help,
            read: { configuration, text, source throws(ConfigurationError) in
                configuration[keyPath: path] = try parseInteger(text, source: source)
            },
            show: { "\($0[keyPath: path])" },
            check: { range.contains($0[keyPath: path]) ? nil : "must be \(describe(range))" }
        )
    }

    package static func optionalInteger(_ key: String, _ path: Path<Int?>, help: String, atLeast minimum: Int) -> Setting {
        Setting(
            key: key, help: help,
            read: { configuration, text, source throws(ConfigurationError) in
                configuration[keyPath: path] = try parseInteger(text, source: source)
            },
            show: { $0[keyPath: path].map { "\($0)" } },
            check: { configuration in
                guard let value = configuration[keyPath: path], value < minimum else { return nil }
                return "must be at least \(minimum)"
            }
        )
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    package static func boolean(_ key: String, _ path: Path<Bool>, help: String) -> Setting {
        Setting(
            key: key, help: help,
            read: { configuration, text, source throws(ConfigurationError) in
                switch text.lowercased() {
                case "true", "1", "yes": configuration[keyPath: path] = true
                case "false", "0", "no", "": configuration[keyPath: path] = false
                default: throw ConfigurationError(key: source, problem: "'\(text)' is not true or false")
                }
            },
            show: { "\($0[keyPath: path])" },
            check: { _ in nil }
        )
    }

    /// A duration given in seconds (fractions allowed).
    package static func seconds(_ key: String, _ path: Path<Duration>, help: String, atLeast minimum: Duration, orZero: Bool = false) -> Setting {
        Setting(
            key: key, help: help,
            read: { configuration, text, source throws(ConfigurationError) in
                guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
                    throw ConfigurationError(key: source, problem: "'\(text)' is not a number of seconds")
                }
                configuration[keyPath: path] = .milliseconds(Int64((seconds * 1000).rounded()))
            },
            show: { formatSeconds($0[keyPath: path]) },
            check: { configuration in
                let value = configuration[keyPath: path]
                if orZero && value == .zero { return nil }
                guard value < minimum else { return nil }
                return minimum == .milliseconds(1) ? "must be positive" : "must be at least \(formatSeconds(minimum)) seconds"
            }
        )
    }

    package static func parseInteger(_ text: String, source: String) throws(ConfigurationError) -> Int {
        guard let value = Int(text) else { throw ConfigurationError(key: source, problem: "'\(text)' is not a whole number") }
        return value
    }

    /// Whole seconds without a fraction ("10"), others as they are ("0.5").
    private static func formatSeconds(_ duration: Duration) -> String {
        duration.milliseconds % 1000 == 0 ? "\(duration.milliseconds / 1000)" : "\(duration.seconds)"
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        range.upperBound == .max ? "at least \(range.lowerBound)" : "\(range.lowerBound)...\(range.upperBound)"
    }
}
