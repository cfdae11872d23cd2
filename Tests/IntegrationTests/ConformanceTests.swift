import Foundation
import Testing
import NodeTestSupport
import TestSupport

/// RFC 6455 conformance of the client port, case by case after Autobahn TestSuite's case
/// groups 1–7, written as raw bytes on a real socket to a real node. Where Autobahn
/// expects an echo, these send a `ping` envelope and expect its answer; every case that
/// should leave the connection open then proves it is with one more envelope.
@Suite("RFC 6455 conformance (Autobahn groups 1–7)", .timeLimit(.minutes(3)))
struct ConformanceTests {
    enum Expect: Sendable {
        /// These ids answered (`ok`, or `error` with `code` where given), in order, and the socket stays.
        case answers([String], code: String? = nil)
        /// These pong payloads, then the socket stays.
        case pongs([[UInt8]])
        /// Nothing at all, and the socket stays.
        case nothing
        /// A close frame with this code, then the socket is dropped.
        case closes(Int)
        /// Answers to these ids, then a close frame with this code.
        case answersThenCloses([String], Int)
    }

    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let bytes: [UInt8]
        let expect: Expect
    }

    static func envelope(_ id: String, padTo length: Int = 0) -> [UInt8] {
        let text = #"{"id":"\#(id)","ping":{}}"#
        return Array((text + String(repeating: " ", count: max(0, length - text.utf8.count))).utf8)
    }

    typealias W = WebSocketWire

    static let cases: [Case] = {
        var cases: [Case] = []
        func add(_ name: String, _ bytes: [UInt8], _ expect: Expect) { cases.append(Case(description: name, bytes: bytes, expect: expect)) }
        // 1 framing: text and binary messages of the lengths where the header changes.
        add("1.1.1 empty text", W.frame(W.text, []), .answers([""], code: "bad_frame"))
        for length in [125, 126, 127, 128, 65535] {
            add("1.1 text of \(length) bytes", W.frame(W.text, envelope("t\(length)", padTo: length)), .answers(["t\(length)"]))
        }
        add("1.1.8 text over max-frame-bytes", W.frame(W.text, envelope("big", padTo: 65537)), .closes(1009))
        add("1.2.1 empty binary", W.frame(W.binary, []), .answers([""], code: "bad_frame"))
        add("1.2.2 binary ping envelope", W.frame(W.binary, [0x0A, 0x01, 0x62, 0x2A, 0x00]), .answers(["b"]))
        // 2 pings and pongs.
        add("2.1 empty ping", W.frame(W.ping, []), .pongs([[]]))
        add("2.2 ping with 125 bytes of text", W.frame(W.ping, Array(String(repeating: "*", count: 125).utf8)), .pongs([Array(String(repeating: "*", count: 125).utf8)]))
        add("2.3 ping with binary payload", W.frame(W.ping, [0x00, 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0x00, 0xFF]), .pongs([[0x00, 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0x00, 0xFF]]))
        add("2.5 ping with 126 bytes", W.frame(W.ping, [UInt8](repeating: 0x2A, count: 126)), .closes(1002))
        add("2.6 unsolicited pong", W.frame(W.pong, []), .nothing)
        add("2.7 unsolicited pong with payload", W.frame(W.pong, Array("unsolicited".utf8)), .nothing)
        add("2.10 ten pings", (0..<10).flatMap { W.frame(W.ping, Array("p\($0)".utf8)) }, .pongs((0..<10).map { Array("p\($0)".utf8) }))
        // 3 reserved bits, no extension negotiated.
        for rsv: UInt8 in 1...7 { add("3 text with RSV=\(rsv)", W.frame(W.text, envelope("r"), rsv: rsv), .closes(1002)) }
        add("3.5 binary with RSV", W.frame(W.binary, [0x0A, 0x01, 0x62, 0x2A, 0x00], rsv: 6), .closes(1002))
        add("3.6 ping with RSV", W.frame(W.ping, [], rsv: 7), .closes(1002))
        add("3.7 close with RSV", W.frame(W.close, W.closePayload(1000), rsv: 7), .closes(1002))
        // 4 reserved opcodes.
        for opcode: UInt8 in [3, 4, 5, 6, 7, 11, 12, 13, 14, 15] {
            add("4 reserved opcode \(opcode)", W.frame(opcode, Array("reserved".utf8)), .closes(1002))
        }
        add("4.1.3 text then a reserved opcode", W.frame(W.text, envelope("first")) + W.frame(5, []), .answersThenCloses(["first"], 1002))
        // 5 fragmentation.
        add("5.1 fragmented ping", W.frame(W.ping, Array("frag".utf8), fin: false) + W.frame(W.continuation, Array("ment".utf8)), .closes(1002))
        add("5.2 fragmented pong", W.frame(W.pong, Array("frag".utf8), fin: false) + W.frame(W.continuation, Array("ment".utf8)), .closes(1002))
        let split = envelope("split")
        add("5.3 text in two fragments", W.frame(W.text, Array(split[..<6]), fin: false) + W.frame(W.continuation, Array(split[6...])), .answers(["split"]))
        add(
            "5.6 text in fragments with a ping between",
            W.frame(W.text, Array(split[..<6]), fin: false) + W.frame(W.ping, Array("between".utf8)) + W.frame(W.continuation, Array(split[6...])),
            .pongs([Array("between".utf8)])
        )
        add("5.9 continuation with nothing to continue", W.frame(W.continuation, envelope("orphan")), .closes(1002))
        add("5.10 unfinished continuation with nothing to continue", W.frame(W.continuation, envelope("orphan"), fin: false), .closes(1002))
        add(
            "5.18 a new text frame inside a fragmented message",
            W.frame(W.text, Array(split[..<6]), fin: false) + W.frame(W.text, Array(split[6...])), .closes(1002)
        )
        let ones = envelope("ones")
        add(
            "5.19 text in one-byte fragments",
            ones.enumerated().flatMap { W.frame($0.offset == 0 ? W.text : W.continuation, [$0.element], fin: $0.offset == ones.count - 1) },
            .answers(["ones"])
        )
        // 6 UTF-8.
        add("6.2 multi-byte UTF-8", W.frame(W.text, #"{"id":"κόσμε","ping":{}}"#), .answers(["κόσμε"]))
        let greek = Array(#"{"id":"κόσμε","ping":{}}"#.utf8)
        add(
            "6.4 multi-byte UTF-8 split inside a character",
            W.frame(W.text, Array(greek[..<9]), fin: false) + W.frame(W.continuation, Array(greek[9...])), .answers(["κόσμε"])
        )
        add("6.3 invalid UTF-8", W.frame(W.text, [0x7B, 0xC3, 0x28, 0x7D]), .closes(1007))
        add("6.3.2 invalid UTF-8 across fragments", W.frame(W.text, [0x7B, 0xCE], fin: false) + W.frame(W.continuation, [0x28, 0x7D]), .closes(1007))
        add("6.5 overlong encoding", W.frame(W.text, [0x22, 0xC0, 0xAF, 0x22]), .closes(1007))
        add("6.6 a UTF-16 surrogate", W.frame(W.text, [0x22, 0xED, 0xA0, 0x80, 0x22]), .closes(1007))
        // 7 closing.
        add("7.1.1 close with 1000", W.frame(W.close, W.closePayload(1000)), .closes(1000))
        add("7.3.1 empty close", W.frame(W.close, []), .closes(1000))
        add("7.3.2 close with one byte", W.frame(W.close, [0x03]), .closes(1002))
        add("7.3.5 close with a 123-byte reason", W.frame(W.close, W.closePayload(1000, [UInt8](repeating: 0x2A, count: 123))), .closes(1000))
        add("7.3.6 close with 124 bytes of reason (126 payload)", W.frame(W.close, W.closePayload(1000, [UInt8](repeating: 0x2A, count: 124))), .closes(1002))
        for code in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] {
            add("7.7 close code \(code) is echoed", W.frame(W.close, W.closePayload(code)), .closes(code))
        }
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            add("7.9 close code \(code) may not be sent", W.frame(W.close, W.closePayload(code)), .closes(1002))
        }
        add("7.5.1 close reason that is not UTF-8", W.frame(W.close, W.closePayload(1000, [0xCE, 0xBA, 0xE1, 0xBD])), .closes(1007))
        add("7.1.3 a frame after the close is ignored", W.frame(W.close, W.closePayload(1000)) + W.frame(W.text, envelope("late")), .closes(1000))
        add(
            "7.1.6 frames before the close are answered first",
            W.frame(W.text, envelope("a")) + W.frame(W.text, #"{"id":"b","presence":{"user":"nobody"}}"#) + W.frame(W.close, W.closePayload(1000)),
            .answersThenCloses(["a", "b"], 1000)
        )
        add("unmasked client frame", W.frame(W.text, envelope("bare"), masked: false), .closes(1002))
        return cases
    }()

    @Test("conformance case", arguments: cases)
    func conformance(_ testCase: Case) async throws {
        try await withNode { node in
            try await Self.check(testCase, port: node.port)
        }
    }

    /// Runs one case on a new connection to the node at `port` and checks what it expects.
    static func check(_ testCase: Case, port: Int) async throws {
        do {
            let connection = try await RawConnection.webSocket(port: port, token: try await RunningNode.token(for: "autobahn"))
            defer { Task { await connection.close() } }
            try await connection.write(testCase.bytes)
            switch testCase.expect {
            case .closes(let code), .answersThenCloses(_, let code):
                try await waitUntil { connection.isClosed }
                let frames = connection.framesAfterWelcome
                let close = try #require(frames.last, "no close frame")
                #expect(close.opcode == WebSocketWire.close)
                #expect(close.closeCode == code, "\(frames.map(\.text))")
                if case .answersThenCloses(let ids, _) = testCase.expect {
                    #expect(try Self.ids(frames.dropLast()) == ids)
                }
            case .answers, .pongs, .nothing:
                // One more envelope: once it is answered, everything before it was handled.
                try await connection.write(WebSocketWire.frame(WebSocketWire.text, Self.envelope("probe")))
                try await waitUntil { try Self.ids(connection.framesAfterWelcome.filter { $0.opcode == WebSocketWire.text }).last == "probe" || connection.isClosed }
                #expect(!connection.isClosed)
                let frames = Array(connection.framesAfterWelcome.dropLast())
                switch testCase.expect {
                case .answers(let ids, let code):
                    #expect(try Self.ids(frames) == ids)
                    if let code { #expect(frames.allSatisfy { $0.text.contains(#""code":"\#(code)""#) }, "\(frames.map(\.text))") }
                case .pongs(let payloads):
                    #expect(frames.filter { $0.opcode == WebSocketWire.pong }.map(\.payload) == payloads)
                    if case .pongs = testCase.expect, testCase.description.hasPrefix("5.6") {
                        #expect(try Self.ids(frames.filter { $0.opcode == WebSocketWire.text }) == ["split"])
                    }
                default:
                    #expect(frames.isEmpty, "\(frames.map(\.text))")
                }
            }
        }
    }

    /// The ids of answer frames, in order.
    static func ids(_ frames: some Sequence<WebSocketWire.Frame>) throws -> [String] {
        try frames.filter { $0.opcode == WebSocketWire.text }.map { frame in
            let object = try JSONSerialization.jsonObject(with: Data(frame.payload)) as? [String: Any]
            return object?["id"] as? String ?? ""
        }
    }
}
