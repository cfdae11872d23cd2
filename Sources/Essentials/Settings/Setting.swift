/// One setting of a configuration `Root`, declared once: its key (flag `--key`, config-file
/// line `key = value`), its variable, its help, how its text is read, and the rule a value
/// must keep. A command's settings are one list of these (`SettingList`), which reads
/// them, checks them and writes their help — the node's and the reference backends' alike.
package struct Setting<Root>: Sendable {
    package let key: String
    package let help: String
    /// The environment variable: `SWITCHBOARD_` and the key in upper case, dashes as
    /// underscores, unless named otherwise (`variable(_:)`).
    package private(set) var environmentName: String
    /// Reads the setting's text into a configuration; throws naming `source`.
    package let read: @Sendable (inout Root, _ text: String, _ source: String) throws(ConfigurationError) -> Void
    /// The value in a configuration, as help shows it (nil: not set).
    package let show: @Sendable (Root) -> String?
    /// The rule a value must keep, as a problem to report (nil: fine).
    package let check: @Sendable (Root) -> String?

    package init(
        key: String, help: String,
        read: @escaping @Sendable (inout Root, _ text: String, _ source: String) throws(ConfigurationError) -> Void,
        show: @escaping @Sendable (Root) -> String?,
        check: @escaping @Sendable (Root) -> String?
    ) {
        self.key = key
        self.help = help
        environmentName = "SWITCHBOARD_" + key.uppercased().map { $0 == "-" ? "_" : $0 }.map(String.init).joined()
        self.read = read
        self.show = show
        self.check = check
    }

    /// The same setting read from the variable `name`.
    package func variable(_ name: String) -> Setting {
        var setting = self
        setting.environmentName = name
        return setting
    }
}
