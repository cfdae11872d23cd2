import Routing
import SwiftProtobuf
import Testing

@Suite("Opaque push payloads: JSON checked once, kept as written")
struct PushPayloadTests {
    private func checks(_ text: String) -> Bool {
        (try? PushPayload.checkedJSON(Array(text.utf8))) != nil
    }

    private func nested(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
    }

    @Test("well-formed JSON values of every kind pass and are kept byte for byte")
    func wellFormed() throws {
        for text in [
            #"{"a": [1, -2.5e+3, 0.0, true, false, null], "b" : {"c":"\u00e9\n\"\\\/"}}"#, "42", "-0", #""text""#, "[]", "{}",
            " [ 1 ,\t2 ]\n", #"{"emoji":"😀","escaped":"\ud83d\ude00"}"#, "1E-7",
        ] {
            #expect(try PushPayload.checkedJSON(Array(text.utf8)) == Array(text.utf8), "\(text)")
        }
    }

    @Test("malformed JSON is refused, with where it went wrong")
    func malformed() {
        for text in [
            "", "[1,]", "{'a':1}", #"{"a":1,}"#, "01", "1.", "-", ".5", "NaN", "Infinity", "tru", "[1 2]", #"{"a" 1}"#,
            "\"unterminated", "\"bad \\x escape\"", "\"bad \\u12 escape\"", "\"tab\there\"", "[1]]", "{} {}", #"{"a":}"#, "[",
        ] {
            #expect(!checks(text), "\(text) should be refused")
        }
        do {
            _ = try PushPayload.checkedJSON(Array("[1,]".utf8))
        } catch {
            #expect(error.description.contains("byte 3"), "\(error)")
        }
    }

    @Test("data may nest 32 deep, not 33")
    func depth() {
        #expect(checks(nested(32)))
        #expect(!checks(nested(33)))
        #expect(checks(String(repeating: #"{"a":"#, count: 32) + "1" + String(repeating: "}", count: 32)))
        #expect(!checks(String(repeating: #"{"a":"#, count: 33) + "1" + String(repeating: "}", count: 33)))
    }

    @Test("a protobuf Value becomes its JSON text, checked the same way; an unset one is no data")
    func fromValue() throws {
        let value = Google_Protobuf_Value(structValue: ["text": .init(stringValue: "hi"), "n": .init(numberValue: 2)])
        let payload = try PushPayload(from: "bob", kind: "message", value: value)
        #expect(payload.value() == value)
        #expect(try PushPayload(from: "bob", kind: "k", value: Google_Protobuf_Value()).data == nil)
        var deep = Google_Protobuf_Value(numberValue: 1)
        for _ in 0..<33 { deep = .init(listValue: .init(values: [deep])) }
        #expect(throws: PayloadError.self) { try PushPayload(from: "bob", kind: "k", value: deep) }
        #expect(throws: PayloadError.self) { try PushPayload(from: "bob", kind: "k", value: .init(numberValue: .nan)) }
    }
}
