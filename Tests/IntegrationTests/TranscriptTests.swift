import Node
import Routing
import SwiftProtobuf
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

/// The node against the protocol's conformance transcripts (docs/conformance): every
/// transcript, in every encoding it holds in, replayed on real sockets to a real node.
@Suite("Conformance transcripts against a real node", .timeLimit(.minutes(3)))
struct TranscriptTests {
    struct Case: Sendable, CustomStringConvertible {
        let transcript: Transcript
        let encoding: String
        var description: String { "\(transcript.name) (\(encoding))" }
    }

    static let transcripts = Result { try Transcripts.load() }

    static var cases: [Case] {
        guard case .success(let all) = transcripts else { return [] }
        return all.transcripts.flatMap { transcript in transcript.encodings.map { Case(transcript: transcript, encoding: $0) } }
    }

    @Test("the transcripts file reads, and holds transcripts in both encodings")
    func file() throws {
        let all = try Self.transcripts.get()
        #expect(all.transcripts.count >= 10)
        #expect(Self.cases.contains { $0.encoding == "protobuf" } && Self.cases.contains { $0.encoding == "json" })
        #expect(Set(Self.cases.map(\.encoding)) == ["json", "protobuf"], "only the two encodings")
    }

    @Test("the node answers as the transcript says", arguments: cases)
    func replay(_ replay: Case) async throws {
        let all = try Self.transcripts.get()
        let transcript = replay.transcript
        let protobuf = replay.encoding == "protobuf"
        let format: TestWebSocket.Format = protobuf ? .protobuf : .json
        try await withNode(configure: { $0.inbox.durableKinds = Set(all.durableKinds) }) { node in
            var match = TranscriptMatch(examples: all.examples, protobuf: protobuf)
            var sockets = [transcript.user: try await node.connect(transcript.user, format: format, awaitWelcome: false)]
            defer { for socket in sockets.values { Task { try? await socket.close() } } }
            for (index, step) in transcript.steps.enumerated() {
                let who = step.as ?? transcript.user
                if step.connect == true {
                    sockets[who] = try await node.connect(who, format: format)
                    continue
                }
                let socket = try #require(sockets[who], "step \(index): \(who) is not connected")
                if let frame = step.client {
                    if case .string(let id)? = frame["id"], id.hasPrefix("$") { _ = match.bind(id, orElse: .string("c\(index)")) }
                    let text = match.concrete(frame).description
                    if protobuf {
                        socket.send(binary: try Switchboard_V1_ClientFrame(jsonString: text).serializedBytes())
                    } else {
                        socket.send(text)
                    }
                }
                if let frame = step.node {
                    let actual = protobuf
                        ? try JSONValue(parsing: try Switchboard_V1_ServerFrame(serializedBytes: try await socket.receiveBinary()).jsonString())
                        : try JSONValue(parsing: try await socket.receiveText())
                    if let difference = match.match(frame, actual) {
                        Issue.record("step \(index) (\(who)): \(difference)\n  the frame: \(actual)")
                        return
                    }
                }
            }
        }
    }
}
