import ArgumentParser

@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A clustered WebSocket gateway.",
        subcommands: [NodeCommand.self, BackendsCommand.self, ClusterCommand.self, TokenCommand.self, SecretCommand.self, NotifyCommand.self, BenchCommand.self]
    )

    static func main() async {
        do {
            try ConcurrencyExecutor.installIfServing(arguments: CommandLine.arguments, environment: ProcessEnvironment.current)
        } catch {
            exit(withError: error)
        }
        await main(nil)
    }
}
