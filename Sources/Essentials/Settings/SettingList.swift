/// A command's settings, read through one list from a config file's `key = value` lines,
/// `SWITCHBOARD_*` variables and `--key value` flags, in that order (the later wins);
/// checked by each setting's rule, and shown in the command's help.
package struct SettingList<Root>: Sendable {
    package let settings: [Setting<Root>]
    /// How errors name the command (`switchboard node`) and one of its settings (`node setting`).
    package let command: String
    package let noun: String

    package init(_ settings: [Setting<Root>], command: String, noun: String) {
        self.settings = settings
        self.command = command
        self.noun = noun
    }

    /// Reads every setting given into `configuration`; an unknown key in the file or the
    /// flags is an error (a misspelt setting would otherwise be ignored). Not yet checked.
    package func read(
        into configuration: inout Root, file: [String: String] = [:], environment: [String: String], flags: [String: String] = [:]
    ) throws(ConfigurationError) {
        for setting in settings {
            if let text = file[setting.key] { try setting.read(&configuration, text, setting.key) }
            if let text = environment[setting.environmentName] { try setting.read(&configuration, text, setting.environmentName) }
            if let text = flags[setting.key] { try setting.read(&configuration, text, "--\(setting.key)") }
        }
        let known = Set(settings.map(\.key))
        for key in file.keys.sorted() where !known.contains(key) {
            throw ConfigurationError(key: key, problem: "is not a \(noun) (see \(command) --help)")
        }
        for key in flags.keys.sorted() where !known.contains(key) {
            throw ConfigurationError(key: "--\(key)", problem: "is not a \(noun) (see \(command) --help)")
        }
    }

    /// The first setting whose rule `configuration` breaks.
    package func check(_ configuration: Root) throws(ConfigurationError) {
        for setting in settings {
            if let problem = setting.check(configuration) { throw ConfigurationError(key: setting.key, problem: problem) }
        }
    }

    /// Every setting with its flag, variable, default (from `defaults`) and help.
    package func help(defaults: Root) -> String {
        settings.map { setting in
            let value = setting.show(defaults).map { " Default: \($0)." } ?? ""
            return "--\(setting.key), \(setting.environmentName): \(setting.help)\(value)"
        }.joined(separator: "\n\n")
    }
}
