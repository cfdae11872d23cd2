import NIOCore
import Routing
import SwiftProtobuf
import Testing

@Suite("Values written as plain JSON")
struct PlainJSONTests {
    private func text(_ value: Google_Protobuf_Value) throws -> String {
        String(decoding: try value.plainJSONBytes(), as: UTF8.self)
    }

    @Test("whole numbers are integers, up to 2^53; other numbers keep their fraction or exponent")
    func numbers() throws {
        #expect(try text(.init(numberValue: 1)) == "1")
        #expect(try text(.init(numberValue: 0)) == "0")
        #expect(try text(.init(numberValue: -42)) == "-42")
        #expect(try text(.init(numberValue: 1_796_057_354_314)) == "1796057354314")
        #expect(try text(.init(numberValue: 9_007_199_254_740_991)) == "9007199254740991")
        #expect(try text(.init(numberValue: 2.5)) == "2.5")
        #expect(try text(.init(numberValue: 0.1)) == "0.1")
        #expect(try text(.init(numberValue: 1e300)) == "1e+300")
        #expect(throws: PayloadError.self) { try text(.init(numberValue: .infinity)) }
        #expect(throws: PayloadError.self) { try text(.init(numberValue: .nan)) }
    }

    @Test("objects have sorted keys and escaped strings; the text parses back to the same value")
    func structure() throws {
        let value = Google_Protobuf_Value(structValue: [
            "z": .init(listValue: .init(values: [.init(boolValue: true), .init(nilLiteral: ()), .init(numberValue: 3)])),
            "a": .init(stringValue: "q\"uote\n\u{1}"),
        ])
        let json = try text(value)
        #expect(json == #"{"a":"q\"uote\n\u0001","z":[true,null,3]}"#)
        #expect(try Google_Protobuf_Value(jsonString: json) == value)
    }
}
