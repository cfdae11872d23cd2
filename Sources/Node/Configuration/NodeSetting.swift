import Essentials

/// One node setting, declared once: its key (flag `--key`, variable `SWITCHBOARD_KEY`,
/// config-file line `key = value`), its help, how its text is read, and the rule a value
/// must keep. `NodeConfiguration.settings` lists them all.
package struct NodeSetting: Sendable {
    package let key: String
    package let help: String
    /// Reads the setting's text into a configuration; throws naming `source`.
    let read: @Sendable (inout NodeConfiguration, _ text: String, _ source: String) throws(ConfigurationError) -> Void
    /// The value in a configuration, as help shows it (nil: not set).
    let show: @Sendable (NodeConfiguration) -> String?
    /// The rule a value must keep, as a problem to report (nil: fine).
    let check: @Sendable (NodeConfiguration) -> String?

    /// `SWITCHBOARD_` and the key in upper case, dashes as underscores.
    package var environmentName: String {
        "SWITCHBOARD_" + key.uppercased().map { $0 == "-" ? "_" : $0 }.map(String.init).joined()
    }
}

extension NodeSetting {
    typealias Path<Value> = WritableKeyPath<NodeConfiguration, Value> & Sendable

    static func string(
        _ key: String, _ path: Path<String>, help: String, secret: Bool = false,
        check: @escaping @Sendable (String) -> String? = { _ in nil }
    ) -> NodeSetting {
        NodeSetting(
            key: key, help: help,
            read: { configuration, text, _ in configuration[keyPath: path] = text },
            show: { configuration in
                let value = configuration[keyPath: path]
                return value.isEmpty ? nil : secret ? "(set)" : value
            },
            check: { check($0[keyPath: path]) }
        )
    }

    /// A text that may be unset (a file path, an issuer), unset when empty; `pairedWith` names the setting it needs beside it
    /// (a certificate and its key), `needs` one it is meaningless without.
    static func optional(
        _ key: String, _ path: Path<String?>,
        pairedWith partner: Path<String?>? = nil, _ partnerKey: String = "",
        needs required: Path<String?>? = nil, _ requiredKey: String = "",
        help: String
    ) -> NodeSetting {
        NodeSetting(
            key: key, help: help,
            read: { configuration, text, _ in configuration[keyPath: path] = text.isEmpty ? nil : text },
            show: { $0[keyPath: path] },
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

    static func integer(_ key: String, _ path: Path<Int>, help: String, in range: ClosedRange<Int>) -> NodeSetting {
        NodeSetting(
            key: key, help: help,
            read: { configuration, text, source throws(ConfigurationError) in
                configuration[keyPath: path] = try parseInteger(text, source: source)
            },
            show: { "\($0[keyPath: path])" },
            check: { range.contains($0[keyPath: path]) ? nil : "must be \(describe(range))" }
        )
    }

    static func optionalInteger(_ key: String, _ path: Path<Int?>, help: String, atLeast minimum: Int) -> NodeSetting {
        NodeSetting(
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

    /// `jwt-issuer`, `jwt-audience`: one identity provider signs tokens for many apps, so
    /// with a JWKS the node must be told which are its own — or `*`, said out loud.
    static func identityClaim(_ key: String, _ path: Path<String?>, help: String) -> NodeSetting {
        NodeSetting(
            key: key, help: help,
            read: { configuration, text, _ in configuration[keyPath: path] = text.isEmpty ? nil : text },
            show: { $0[keyPath: path] },
            check: { configuration in
                guard configuration[keyPath: path] == nil, configuration.jwksFile != nil || configuration.jwksURL != nil else { return nil }
                return "must be set with a JWKS (an identity provider signs tokens for other apps too); '*' accepts any"
            }
        )
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    static func boolean(_ key: String, _ path: Path<Bool>, help: String) -> NodeSetting {
        NodeSetting(
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
    static func seconds(_ key: String, _ path: Path<Duration>, help: String, atLeast minimum: Duration, orZero: Bool = false) -> NodeSetting {
        NodeSetting(
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

    static func parseInteger(_ text: String, source: String) throws(ConfigurationError) -> Int {
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
