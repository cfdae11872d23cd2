@testable import BackendCalls
@testable import Routing
import SwiftProtobuf
import SwitchboardProtocol
import Testing

/// Decoding a client's JSON arguments into a route's typed request.
@Suite("Route arguments")
struct RouteTests {
    private typealias Update = Switchboard_Location_V1_UpdateLocationRequest

    private func value(_ json: String) throws -> Google_Protobuf_Value {
        try Google_Protobuf_Value(jsonString: json)
    }

    @Test("a field of the wrong type is refused naming that field")
    func wrongTypeNamesTheField() throws {
        let error = #expect(throws: RouteArgumentError.self) {
            _ = try BackendRoute.decode(Update.self, fromJSON: try value(#"{"latitude":"north","longitude":13.4}"#))
        }
        #expect(error?.field == "latitude")
        #expect(error.map { "\($0)" }?.contains("'latitude'") == true)
    }

    @Test("good arguments decode; absent or null data is the empty request; an array is refused")
    func shapes() throws {
        let update = try BackendRoute.decode(Update.self, fromJSON: try value(#"{"latitude":52.5,"longitude":13.4}"#))
        #expect(update.latitude == 52.5)
        #expect(update.longitude == 13.4)
        #expect(try BackendRoute.decode(Update.self, fromJSON: Google_Protobuf_Value()) == Update())
        #expect(try BackendRoute.decode(Update.self, fromJSON: try value("null")) == Update())
        let error = #expect(throws: RouteArgumentError.self) { _ = try BackendRoute.decode(Update.self, fromJSON: try value("[1,2]")) }
        #expect(error?.field == nil)
    }

    @Test("the standard table serves every documented call, each with a deadline")
    func standardTable() {
        #expect(RouteTable.standard.names == [
            "chat.history", "chat.send", "location.get", "location.nearby", "location.update", "notification.list", "notification.markRead",
        ])
        for name in RouteTable.standard.names {
            #expect((RouteTable.standard[name]?.timeout ?? .zero) > .zero)
        }
    }
}
