import Essentials

/// The namespaces a node knows, as its `topic-namespaces` setting declares them:
/// `name:option,option;name:option`, each option `subscribe=any|claim|backend|none`,
/// `publish=any|claim|backend|none`, `echo=on|off`, `joins=on|off`, `presence=on|off`,
/// `history=N` or `history-ttl=S` (docs/configuration.md). A topic in no namespace is refused.
package struct TopicNamespaces: Sendable, Equatable {
    package private(set) var byName: [String: TopicNamespace] = [:]

    package init(_ namespaces: [TopicNamespace] = []) {
        for namespace in namespaces { byName[namespace.name] = namespace }
    }

    /// The rules of `topic` (a valid name), nil when its namespace is not declared.
    package func rules(for topic: String) -> TopicNamespace? {
        byName[String(TopicName.namespace(of: topic))]
    }

    package var isEmpty: Bool { byName.isEmpty }

    /// Whether any namespace leaves a decision to the authorizer backend.
    package var asksBackend: Bool { byName.values.contains(where: \.asksBackend) }

    /// Parses the setting's text; throws a message naming what is wrong.
    package init(parsing text: String) throws(TopicNamespaceError) {
        for entry in text.split(separator: ";") {
            let trimmed = entry.trimmingSpaces
            guard !trimmed.isEmpty else { continue }
            let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].trimmingSpaces
            guard !name.isEmpty, name.utf8.allSatisfy({ TopicName.isAllowed($0) && $0 != UInt8(ascii: ":") }) else {
                throw TopicNamespaceError("'\(trimmed)': a namespace is a name of printable ASCII before ':' (as in room:subscribe=any)")
            }
            guard byName[name] == nil else { throw TopicNamespaceError("namespace '\(name)' is declared twice") }
            var namespace = TopicNamespace(name: name)
            var historyLength = 0
            var historyTTL: Duration?
            let options = parts.count > 1 ? parts[1].split(separator: ",") : []
            for option in options {
                let pair = option.split(separator: "=", maxSplits: 1).map(\.trimmingSpaces)
                guard pair.count == 2 else { throw TopicNamespaceError("namespace '\(name)': '\(option)' is not key=value") }
                switch pair[0] {
                case "subscribe", "publish":
                    guard let permission = TopicPermission(rawValue: pair[1]) else {
                        throw TopicNamespaceError("namespace '\(name)': \(pair[0]) is any, claim, backend or none (not '\(pair[1])')")
                    }
                    if pair[0] == "subscribe" { namespace.subscribe = permission } else { namespace.publish = permission }
                case "echo", "joins", "presence":
                    guard pair[1] == "on" || pair[1] == "off" else {
                        throw TopicNamespaceError("namespace '\(name)': \(pair[0]) is on or off (not '\(pair[1])')")
                    }
                    let on = pair[1] == "on"
                    switch pair[0] {
                    case "echo": namespace.echo = on
                    case "joins": namespace.joins = on
                    default: namespace.presence = on
                    }
                case "history":
                    guard let length = Int(pair[1]), (0...TopicHistory.maxLengthLimit).contains(length) else {
                        throw TopicNamespaceError("namespace '\(name)': history is how many publishes each topic keeps, 0 to \(TopicHistory.maxLengthLimit) (not '\(pair[1])')")
                    }
                    historyLength = length
                case "history-ttl":
                    guard let seconds = Int(pair[1]), seconds > 0 else {
                        throw TopicNamespaceError("namespace '\(name)': history-ttl is a whole number of seconds above 0 (not '\(pair[1])')")
                    }
                    historyTTL = .seconds(seconds)
                default:
                    throw TopicNamespaceError("namespace '\(name)': unknown option '\(pair[0])' (subscribe, publish, echo, joins, presence, history, history-ttl)")
                }
            }
            if historyLength > 0 {
                namespace.history = TopicHistory(maxLength: historyLength, ttl: historyTTL ?? TopicHistory.defaultTTL)
            } else if historyTTL != nil {
                throw TopicNamespaceError("namespace '\(name)': history-ttl needs history=N (how many publishes to keep)")
            }
            byName[name] = namespace
        }
    }

    /// The setting's text for these namespaces (what help and `--print-config` show).
    package var description: String {
        byName.keys.sorted().compactMap { byName[$0] }.map { namespace in
            "\(namespace.name):subscribe=\(namespace.subscribe.rawValue),publish=\(namespace.publish.rawValue),echo=\(namespace.echo ? "on" : "off"),joins=\(namespace.joins ? "on" : "off"),presence=\(namespace.presence ? "on" : "off")"
                + (namespace.history.map { ",history=\($0.maxLength),history-ttl=\($0.ttl.components.seconds)" } ?? "")
        }.joined(separator: ";")
    }
}
