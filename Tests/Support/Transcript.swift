import Foundation

/// The conformance transcripts of the client protocol (docs/conformance/transcripts.json;
/// the rules are in docs/protocol.md § Conformance transcripts). The node's tests replay
/// them against a real node, the Swift client's against a scripted node.
package struct Transcripts: Decodable, Sendable {
    /// Node settings every transcript assumes, e.g. `durable-kinds`.
    package let node: [String: JSONValue]
    /// Values a scripted node writes for variables not yet bound.
    package let examples: [String: JSONValue]
    package let transcripts: [Transcript]

    package static func load() throws -> Transcripts {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/conformance/transcripts.json").standardizedFileURL
        return try JSONDecoder().decode(Transcripts.self, from: Data(contentsOf: file))
    }

    package var durableKinds: [String] {
        guard case .array(let kinds) = node["durable-kinds"] else { return [] }
        return kinds.compactMap(\.string)
    }
}

package struct Transcript: Decodable, Sendable, CustomStringConvertible {
    package let name: String
    /// The user of the connection under test.
    package let user: String
    /// `json`, `protobuf`: the encodings the transcript holds in.
    package let encodings: [String]
    package let steps: [Step]

    package var description: String { name }

    /// One frame, or another user's connect. Steps of different connections are ordered
    /// only per connection.
    package struct Step: Decodable, Sendable {
        /// Another user's connection; nil: the connection under test.
        package let `as`: String?
        /// That user connects (and its welcome is read).
        package let connect: Bool?
        /// The node sends this frame.
        package let node: JSONValue?
        /// The client sends this frame…
        package let client: JSONValue?
        /// …by this library call (`{"send": {...}}`, `{"ping": {}}`, …).
        package let `do`: JSONValue?
    }
}

/// The variables of one replay, and the comparison of frames with the transcript's.
package struct TranscriptMatch: Sendable {
    package private(set) var bound: [String: JSONValue] = [:]
    private let examples: [String: JSONValue]
    /// Protobuf frames compared in their JSON form: a field at its default (0, "", false,
    /// empty) may be absent on either side, and 64-bit integers may be written as strings.
    private let protobuf: Bool

    package init(examples: [String: JSONValue], protobuf: Bool) {
        self.examples = examples
        self.protobuf = protobuf
    }

    /// Nil when `actual` matches `pattern` (binding its variables), else what differs.
    package mutating func match(_ pattern: JSONValue, _ actual: JSONValue?, at path: String = "$") -> String? {
        guard let actual else { return "\(path): missing, expected \(pattern)" }
        if case .string(let text) = pattern, text.hasPrefix("$") {
            switch text {
            case "$any": return nil
            case "$string": return actual.string != nil ? nil : "\(path): \(actual) is not a string"
            case "$int": return integer(actual) != nil ? nil : "\(path): \(actual) is not an integer"
            default:
                if let value = bound[text] {
                    return same(value, actual) ? nil : "\(path): \(actual), but \(text) is \(value)"
                }
                guard actual.string != nil || integer(actual) != nil else { return "\(path): \(actual) cannot be \(text)" }
                bound[text] = actual
                return nil
            }
        }
        switch (pattern, actual) {
        case (.object(let expected), .object(let object)):
            for (key, value) in expected.sorted(by: { $0.key < $1.key }) {
                if object[key] == nil, protobuf, isDefault(value) { continue }
                if let difference = match(value, object[key], at: "\(path).\(key)") { return difference }
            }
            for (key, value) in object where expected[key] == nil && !(protobuf && isDefault(value)) {
                return "\(path).\(key): not in the transcript (\(value))"
            }
            return nil
        case (.array(let expected), .array(let array)):
            guard expected.count == array.count else { return "\(path): \(array.count) elements, expected \(expected.count)" }
            for (index, value) in expected.enumerated() {
                if let difference = match(value, array[index], at: "\(path)[\(index)]") { return difference }
            }
            return nil
        default:
            return same(pattern, actual) ? nil : "\(path): \(actual), expected \(pattern)"
        }
    }

    /// `pattern` as a frame to send: variables by their bound values, else the examples.
    package func concrete(_ pattern: JSONValue) -> JSONValue {
        switch pattern {
        case .string(let text) where text.hasPrefix("$"):
            return bound[text] ?? examples[text] ?? .string(String(text.dropFirst()))
        case .object(let object): return .object(object.mapValues(concrete))
        case .array(let array): return .array(array.map(concrete))
        default: return pattern
        }
    }

    /// Binds `name` unless it is bound; the value it has either way.
    package mutating func bind(_ name: String, orElse value: JSONValue) -> JSONValue {
        if let existing = bound[name] { return existing }
        bound[name] = value
        return value
    }

    private func integer(_ value: JSONValue) -> Int64? {
        if let whole = value.integer { return whole }
        if protobuf, let text = value.string { return Int64(text) }
        return nil
    }

    private func same(_ expected: JSONValue, _ actual: JSONValue) -> Bool {
        if expected == actual { return true }
        if case .number = expected, let whole = integer(actual) { return expected.integer == whole }
        return false
    }

    private func isDefault(_ value: JSONValue) -> Bool {
        switch value {
        case .number(let number): return number == 0
        case .string(let text): return text.isEmpty
        case .bool(let flag): return !flag
        case .array(let array): return array.isEmpty
        case .object(let object): return object.isEmpty
        case .null: return true
        }
    }
}
