import Foundation
import SwiftProtobuf
import SwitchboardClient
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

/// The Swift client against the protocol's conformance transcripts (docs/conformance): a
/// scripted node plays the node's side of every protobuf transcript, the library is
/// driven by each step's `do`, and what it sends and what it makes of the answers must be
/// what the transcript says.
@Suite("Conformance transcripts: the Swift client", .timeLimit(.minutes(2)))
struct TranscriptReplayTests {
    static let transcripts = Result { try Transcripts.load() }

    /// The library calls this client has; a transcript needing another is not replayed.
    static let verbs: Set<String> = ["send", "presence", "ping"]

    static var replayable: [Transcript] {
        guard case .success(let all) = transcripts else { return [] }
        return all.transcripts.filter { transcript in
            transcript.encodings.contains("protobuf") && transcript.steps.allSatisfy { step in
                step.as != nil || step.client == nil || verb(of: step).map(verbs.contains) == true
            }
        }
    }

    static func verb(of step: Transcript.Step) -> String? {
        guard case .object(let action)? = step.do else { return nil }
        return action.keys.first
    }

    @Test("every protobuf transcript is replayed but those needing a call the client does not have")
    func coverage() throws {
        let all = try Self.transcripts.get()
        let skipped = all.transcripts.filter { $0.encodings.contains("protobuf") }.map(\.name).filter { name in
            !Self.replayable.contains { $0.name == name }
        }
        #expect(skipped == ["a frame without an id"], "the client has no fire-and-forget send")
        #expect(Self.replayable.count >= 8)
    }

    /// What the library made of a call: the answer as the transcript writes it, or the error's code.
    enum Outcome: Sendable {
        case ok(JSONValue)
        case error(String)
    }

    @Test("the client sends and understands what the transcript says", arguments: replayable)
    func replay(_ transcript: Transcript) async throws {
        let all = try Self.transcripts.get()
        try await withScriptedNode { scripted in
            var configuration = SwitchboardClientConfiguration(urls: [scripted.url], token: .fixed("token"))
            configuration.heartbeatInterval = nil
            configuration.callTimeout = testDeadline
            let client = SwitchboardClient(configuration: configuration)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await client.run() }
                defer { client.close() }
                let socket = try await scripted.connection()
                var match = TranscriptMatch(examples: all.examples, protobuf: true)
                var pushes = client.pushes.makeAsyncIterator()
                var call: Task<Outcome, Never>?
                for (index, step) in transcript.steps.enumerated() where step.as == nil {
                    if let frame = step.client, let action = step.do {
                        call = Self.perform(match.concrete(action), on: client)
                        guard case .binary(let bytes) = try await socket.receive() else {
                            Issue.record("step \(index): the client sent text; it speaks protobuf")
                            return
                        }
                        let sent = try JSONValue(parsing: try Switchboard_V1_ClientFrame(serializedBytes: bytes).jsonString())
                        if let difference = match.match(frame, sent) {
                            Issue.record("step \(index): the client sent \(sent): \(difference)")
                            return
                        }
                    }
                    guard let pattern = step.node else { continue }
                    let frame = match.concrete(pattern)
                    try await socket.send(binary: try Switchboard_V1_ServerFrame(jsonString: frame.description).serializedBytes())
                    if let welcome = frame["welcome"] {
                        let seen = try await client.connected()
                        #expect(seen.connection == welcome["connection"]?.string ?? "" && seen.user == welcome["user"]?.string ?? "", "step \(index)")
                    } else if let push = frame["push"] {
                        let seen = try #require(await pushes.next(), "step \(index): the push never reached the application")
                        try Self.expect(seen, is: push, step: index)
                    } else if let answered = call {
                        call = nil
                        let outcome = await answered.value
                        switch (outcome, frame["ok"], frame["error"]) {
                        case (.ok(let value), let ok?, nil):
                            var compare = TranscriptMatch(examples: [:], protobuf: true)
                            if let difference = compare.match(Self.expected(ok, as: value), value) { Issue.record("step \(index): the call returned \(value): \(difference)") }
                        case (.error(let code), nil, let error?):
                            #expect(code == error["code"]?.string, "step \(index)")
                        default:
                            Issue.record("step \(index): the call ended \(outcome), the node answered \(frame)")
                        }
                    }
                }
            }
        }
    }

    /// Starts the library call a transcript's `do` names.
    static func perform(_ action: JSONValue, on client: SwitchboardClient) -> Task<Outcome, Never> {
        Task {
            do {
                if let send = action["send"] {
                    let data = try Google_Protobuf_Value(jsonString: (send["data"] ?? .null).description)
                    let outcome = try await client.send(to: send["to"]?.string ?? "", data: data, kind: send["kind"]?.string)
                    var answer: [String: JSONValue] = ["delivered": .number(Double(outcome.delivered)), "relayedNodes": .number(Double(outcome.relayedNodes))]
                    if let position = outcome.position {
                        answer["stored"] = .bool(true)
                        answer["position"] = .object(["epoch": .string(position.epoch), "offset": .number(Double(position.offset))])
                    }
                    return .ok(.object(answer))
                }
                if let presence = action["presence"] {
                    let answer = try await client.presence(of: presence["user"]?.string ?? "")
                    return .ok(.object([
                        "user": .string(answer.user), "online": .bool(answer.online), "count": .number(Double(answer.count)),
                        "connections": .array(answer.connections.map { .object(["id": .string($0.id), "node": .string($0.node)]) }),
                    ]))
                }
                if action["ping"] != nil {
                    return .ok(.object(["node": .string(try await client.ping())]))
                }
                return .error("no such library call: \(action)")
            } catch let error as SwitchboardClientError {
                return .error(error.code)
            } catch {
                return .error("\(error)")
            }
        }
    }

    /// The node's answer as the library reports it: `ping` returns only the node.
    static func expected(_ ok: JSONValue, as value: JSONValue) -> JSONValue {
        if case .object(let returned) = value, returned.count == 1, returned["node"] != nil, let node = ok["node"] {
            return .object(["node": node])
        }
        return ok
    }

    static func expect(_ push: Push, is frame: JSONValue, step: Int) throws {
        #expect(push.from == frame["from"]?.string ?? "" && push.kind == frame["kind"]?.string ?? "", "step \(step)")
        #expect(push.origin.rawValue == frame["origin"]?.string, "step \(step)")
        #expect(try JSONValue(parsing: try push.data.jsonString()) == frame["data"] ?? .null, "step \(step)")
        let position = frame["position"]
        #expect(push.position?.epoch == position?["epoch"]?.string && push.position.map { Int64($0.offset) } == position?["offset"]?.integer, "step \(step)")
    }
}
