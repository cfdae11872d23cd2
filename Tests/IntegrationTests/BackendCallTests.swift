import Auth
import Backends
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCSupport
import Node
import BackendCalls
import Routing
import SwiftProtobuf
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

@Suite("Backends over gRPC", .timeLimit(.minutes(4)))
struct BackendCallTests {
    @Test("chat.send from alice reaches bob as a push, alice gets a message id, history has it")
    func chat() async throws {
        try await withNodeAndBackends { system in
            let alice = try await system.node.connect("alice")
            let bob = try await system.node.connect("bob")

            alice.send(#"{"id":"c1","call":"chat.send","data":{"to":"bob","text":"hello bob"}}"#)
            let push = try #require(try await bob.receiveJSON()["push"] as? [String: Any])
            #expect(push["from"] as? String == "alice")
            #expect(push["kind"] as? String == "chat.message")
            #expect((push["data"] as? [String: Any])?["text"] as? String == "hello bob")
            let reply = try await alice.receiveJSON()
            #expect(reply["id"] as? String == "c1")
            let ok = try #require(reply["ok"] as? [String: Any])
            let messageID = try #require(ok["messageId"] as? String)
            #expect(ok["delivered"] as? Bool == true)

            bob.send(#"{"id":"h","call":"chat.history","data":{"with":"alice"}}"#)
            let history = try #require((try await bob.receiveJSON()["ok"] as? [String: Any])?["messages"] as? [[String: Any]])
            #expect(history.count == 1)
            #expect(history.first?["id"] as? String == messageID)
            #expect(history.first?["from"] as? String == "alice")

            try await alice.close()
            try await bob.close()
        }
    }

    @Test("numbers follow one rule: whole numbers are JSON integers in answers and pushes, the same int64 the same way in both")
    func numbersRule() async throws {
        try await withNodeAndBackends { system in
            let alice = try await system.node.connect("alice")
            let bob = try await system.node.connect("bob")

            alice.send(#"{"id":"s","send":{"to":"bob","data":{"n":1}}}"#)
            _ = try await bob.receiveText()
            #expect(try await alice.receiveText() == #"{"id":"s","ok":{"delivered":1,"relayedNodes":0}}"#)

            alice.send(#"{"id":"c","call":"chat.send","data":{"to":"bob","text":"hi"}}"#)
            let pushText = try await bob.receiveText()
            let answerText = try await alice.receiveText()
            for text in [pushText, answerText] {
                #expect(!text.contains(".0"), "no whole number is written with a fraction: \(text)")
                #expect(text.contains(#""sentAtMs":1"#), "sentAtMs is a number, not a string: \(text)")
            }
            let push = try #require((try json(pushText)["push"] as? [String: Any])?["data"] as? [String: Any])
            let answer = try #require(try json(answerText)["ok"] as? [String: Any])
            let pushed = try #require(push["sentAtMs"] as? Int64)
            #expect(pushed == answer["sentAtMs"] as? Int64)
            #expect(pushed > 1_700_000_000_000)

            alice.send(#"{"id":"p","ping":{}}"#)
            #expect(try await alice.receiveText().wholeMatch(of: /\{"id":"p","ok":\{"node":"[^"]+","time":\d+\}\}/) != nil)
            alice.send(#"{"id":"q","presence":{"user":"bob"}}"#)
            #expect(try await alice.receiveText().contains(#""count":1,"#))

            try await alice.close()
            try await bob.close()
        }
    }

    @Test("location.update then location.nearby finds the right users, nearest first")
    func location() async throws {
        try await withNodeAndBackends { system in
            let positions = [("ann", 52.5200, 13.4050), ("ben", 52.5210, 13.4130), ("cid", 48.1351, 11.5820)]  // Berlin, Berlin, Munich
            for (user, latitude, longitude) in positions {
                let client = try await system.node.connect(user)
                client.send(#"{"id":"u","call":"location.update","data":{"latitude":\#(latitude),"longitude":\#(longitude)}}"#)
                #expect(try await client.receiveJSON()["ok"] != nil)
                try await client.close()
            }
            let asker = try await system.node.connect("dee")
            asker.send(#"{"id":"n","call":"location.nearby","data":{"latitude":52.5205,"longitude":13.4090,"radiusMeters":5000}}"#)
            let users = try #require((try await asker.receiveJSON()["ok"] as? [String: Any])?["users"] as? [[String: Any]])
            #expect(users.compactMap { $0["user"] as? String }.sorted() == ["ann", "ben"])
            let distances = users.compactMap { $0["distanceMeters"] as? Double }
            #expect(distances == distances.sorted())
            #expect(distances.allSatisfy { $0 < 1000 })

            asker.send(#"{"id":"g","call":"location.get","data":{"user":"nobody"}}"#)
            #expect((try await asker.receiveJSON()["error"] as? [String: Any])?["code"] as? String == "not_found")
            // Another user's position only coarsely; one's own exactly.
            asker.send(#"{"id":"b","call":"location.get","data":{"user":"ben"}}"#)
            let ben = try #require(try await asker.receiveJSON()["ok"] as? [String: Any])
            #expect(ben["latitude"] as? Double == 52.52 && ben["longitude"] as? Double == 13.41, "\(ben)")
            let own = try await system.node.connect("ben")
            own.send(#"{"id":"b","call":"location.get","data":{"user":"ben"}}"#)
            let exact = try #require(try await own.receiveJSON()["ok"] as? [String: Any])
            #expect(exact["latitude"] as? Double == 52.5210 && exact["longitude"] as? Double == 13.4130)
            try await own.close()
            try await asker.close()
        }
    }

    @Test("the reference backends are bounded: nearby's radius and limit are capped, chat text and history are bounded, ids follow the node's rule")
    func backendCaps() async throws {
        try await withNodeAndBackends(configure: { $0.clientRate = 100_000; $0.clientBurst = 100_000 }) { system in
            // 120 users near each other, eight at a time: the outcome, not the pace, is tested.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<120 {
                    if n >= 8 { try await group.next() }
                    group.addTask {
                        let client = try await system.node.connect("crowd\(n)")
                        client.send(#"{"id":"u","call":"location.update","data":{"latitude":10.0,"longitude":10.0}}"#)
                        #expect(try await client.receiveJSON()["ok"] != nil)
                        try await client.close()
                    }
                }
                try await group.waitForAll()
            }
            let asker = try await system.node.connect("asker")
            asker.send(#"{"id":"far","call":"location.nearby","data":{"latitude":10,"longitude":10,"radiusMeters":40000000,"limit":100000}}"#)
            let refused = try #require(try await asker.receiveJSON()["error"] as? [String: Any])
            #expect(refused["code"] as? String == "invalid_argument")
            #expect((refused["message"] as? String)?.contains("radiusMeters is at most") == true)
            asker.send(#"{"id":"many","call":"location.nearby","data":{"latitude":10,"longitude":10,"radiusMeters":1000,"limit":100000}}"#)
            let users = try #require((try await asker.receiveJSON()["ok"] as? [String: Any])?["users"] as? [[String: Any]])
            #expect(users.count == 100, "limit capped at 100 of 120 nearby")

            let huge = String(repeating: "t", count: 5000)
            asker.send(#"{"id":"big","call":"chat.send","data":{"to":"crowd1","text":"\#(huge)"}}"#)
            #expect((try await asker.receiveJSON()["error"] as? [String: Any])?["code"] as? String == "invalid_argument")
            asker.send(#"{"id":"bad","call":"chat.send","data":{"to":"eve\nroot","text":"hi"}}"#)
            #expect((try await asker.receiveJSON()["error"] as? [String: Any])?["code"] as? String == "invalid_argument")
            // 509 messages, 16 in flight at a time (calls on one socket run concurrently, so
            // their order is the backend's), then a last one once all are stored.
            var sent = 0
            var answered = 0
            while answered < 509 {
                while sent < 509, sent - answered < 16 {
                    asker.send(#"{"id":"c\#(sent)","call":"chat.send","data":{"to":"crowd1","text":"\#(sent)"}}"#)
                    sent += 1
                }
                let reply = try await asker.receiveJSON()
                #expect(reply["ok"] != nil, "\(reply)")
                answered += 1
            }
            asker.send(#"{"id":"c509","call":"chat.send","data":{"to":"crowd1","text":"509"}}"#)
            #expect(try await asker.receiveJSON()["ok"] != nil)
            asker.send(#"{"id":"h","call":"chat.history","data":{"with":"crowd1","limit":100000}}"#)
            let history = try #require((try await asker.receiveJSON()["ok"] as? [String: Any])?["messages"] as? [[String: Any]])
            #expect(history.count == 500, "a pair keeps its last 500 messages")
            #expect(history.last?["text"] as? String == "509")
            try await asker.close()
        }
    }

    @Test("a notification created through the backend reaches the online user; list and markRead track read state")
    func notifications() async throws {
        try await withNodeAndBackends { system in
            let carol = try await system.node.connect("carol")
            let port = try #require(system.backends.ports[.notification])
            try await withGRPCClient(port: port) { client in
                let service = Switchboard_Notification_V1_NotificationService.Client(wrapping: client)
                for title in ["first", "second"] {
                    var request = Switchboard_Notification_V1_CreateNotificationRequest()
                    request.user = "carol"
                    request.title = title
                    let response = try await service.createNotification(
                        request, metadata: .bearer(SharedSecret.derived(from: RunningNode.pushSecret, purpose: .backendCalls))
                    )
                    #expect(response.pushed)
                }
            }
            for title in ["first", "second"] {
                let push = try #require(try await carol.receiveJSON()["push"] as? [String: Any])
                #expect(push["kind"] as? String == "notification")
                #expect((push["data"] as? [String: Any])?["title"] as? String == title)
            }

            carol.send(#"{"id":"l1","call":"notification.list","data":{}}"#)
            let listed = try #require(try await carol.receiveJSON()["ok"] as? [String: Any])
            #expect(listed["unread"] as? Int == 2)
            let notifications = try #require(listed["notifications"] as? [[String: Any]])
            #expect(notifications.compactMap { $0["title"] as? String } == ["second", "first"])
            let firstID = try #require(notifications.last?["id"] as? String)

            carol.send(#"{"id":"m","call":"notification.markRead","data":{"ids":["\#(firstID)"]}}"#)
            #expect((try await carol.receiveJSON()["ok"] as? [String: Any])?["updated"] as? Int == 1)
            carol.send(#"{"id":"l2","call":"notification.list","data":{"unreadOnly":true}}"#)
            let unread = try #require(try await carol.receiveJSON()["ok"] as? [String: Any])
            #expect(unread["unread"] as? Int == 1)
            #expect((unread["notifications"] as? [[String: Any]])?.compactMap { $0["title"] as? String } == ["second"])
            try await carol.close()
        }
    }

    @Test("a binary client calls with the encoded request and gets the encoded response")
    func binaryCall() async throws {
        try await withNodeAndBackends { system in
            let erin = try await system.node.connect("erin", format: .protobuf)
            var update = Switchboard_Location_V1_UpdateLocationRequest()
            update.latitude = 10
            update.longitude = 20
            var frame = Switchboard_V1_ClientFrame()
            frame.id = "b"
            frame.call = "location.update"
            frame.payload = try update.serializedData()
            erin.send(binary: try frame.serializedBytes())
            let reply = try Switchboard_V1_ServerFrame(serializedBytes: try await erin.receiveBinary())
            #expect(reply.id == "b")
            let response = try Switchboard_Location_V1_UpdateLocationResponse(serializedBytes: reply.okPayload)
            #expect(response.updatedAtMs > 0)
            try await erin.close()
        }
    }

    @Test("a field of the wrong type is invalid_argument naming the field")
    func badPayload() async throws {
        try await withNodeAndBackends { system in
            let alice = try await system.node.connect("alice")
            alice.send(#"{"id":"x","call":"location.update","data":{"latitude":"north","longitude":13.4}}"#)
            let error = try #require(try await alice.receiveJSON()["error"] as? [String: Any])
            #expect(error["code"] as? String == "invalid_argument")
            #expect((error["message"] as? String)?.contains("'latitude'") == true)
            alice.send(#"{"id":"y","call":"location.update","data":{"latitude":95,"longitude":0}}"#)
            #expect((try await alice.receiveJSON()["error"] as? [String: Any])?["code"] as? String == "invalid_argument")
            try await alice.close()
        }
    }

    @Test("backend stopped: unavailable at once, not at the deadline; restarted: calls work again")
    func backendDownAndBack() async throws {
        try await withNodeAndBackends { system in
            let alice = try await system.node.connect("alice")
            let call = #"{"id":"h","call":"chat.history","data":{"with":"bob"}}"#
            alice.send(call)
            #expect(try await alice.receiveJSON()["ok"] != nil)

            try await system.backends.stop()
            alice.send(call)
            let error = try #require(try await alice.receiveJSON()["error"] as? [String: Any])
            // `unavailable`, not `timeout`: the node did not wait out the route's deadline.
            #expect(error["code"] as? String == "unavailable")
            // Which address could not be reached is for the log, under the id the client gets.
            #expect((error["message"] as? String)?.contains("127.0.0.1") == false)
            #expect((error["message"] as? String)?.contains("(incident ") == true)
            #expect(try await HTTPProbe.get(port: system.node.port, path: "/healthz").status == 200)

            // Back on the same ports (the node's configuration names them). Another test may
            // hold a just-freed port for a moment (the kernel hands it out again to a bind to
            // port 0), so a bind that finds it taken is tried again.
            var restarted: RunningBackends?
            try await waitUntil {
                do {
                    restarted = try await RunningBackends.start(gatewayPort: system.node.grpcPort, ports: system.backends.ports)
                    return true
                } catch where "\(error)".contains("Address already in use") {
                    return false
                }
            }
            do {
                try await waitUntil {
                    alice.send(call)
                    return try await alice.receiveJSON()["ok"] != nil
                }
            } catch {
                try? await restarted?.stop()
                throw error
            }
            try await restarted?.stop()
            try await alice.close()
        }
    }

    @Test("a slow backend: timeout; past the backend's in-flight cap: busy")
    func slowBackend() async throws {
        let (bound, continuation) = AsyncStream.makeStream(of: Int.self)
        let server = GRPCServerService(host: "127.0.0.1", port: 0, service: SlowLocationService()) { continuation.yield($0) }
        let serverTask = Task { try await server.run() }
        defer { serverTask.cancel() }
        var ports = bound.makeAsyncIterator()
        let port = try #require(await ports.next())
        let routes = RouteTable([
            .unary("slow.update", backend: "location", timeout: .milliseconds(300)) {
                (client, request: Switchboard_Location_V1_UpdateLocationRequest, metadata, options) in
                try await Switchboard_Location_V1_LocationService.Client(wrapping: client)
                    .updateLocation(request, metadata: metadata, options: options)
            },
        ])
        try await withNode(routes: routes, configure: {
            $0.backends = ["location": GRPCEndpoint(host: "127.0.0.1", port: port)]
            $0.maxBackendInFlight = 1
        }) { node in
            let alice = try await node.connect("alice")
            alice.send(#"{"id":"s","call":"slow.update","data":{"latitude":1,"longitude":2}}"#)
            alice.send(#"{"id":"t","call":"slow.update","data":{"latitude":1,"longitude":2}}"#)
            var codes: [String: String] = [:]
            for _ in 0..<2 {
                let reply = try await alice.receiveJSON()
                codes[reply["id"] as? String ?? ""] = (reply["error"] as? [String: Any])?["code"] as? String
            }
            // `timeout` is the route's 300 ms deadline passing (the service takes 5 s).
            #expect(codes == ["s": "timeout", "t": "busy"])
            try await alice.close()
        }
    }
}

/// A Location service that takes far longer than any route's deadline.
struct SlowLocationService: Switchboard_Location_V1_LocationService.SimpleServiceProtocol {
    func updateLocation(
        request: Switchboard_Location_V1_UpdateLocationRequest, context: ServerContext
    ) async throws -> Switchboard_Location_V1_UpdateLocationResponse {
        try await Task.sleep(for: .seconds(5))
        return .init()
    }

    func getLocation(request: Switchboard_Location_V1_GetLocationRequest, context: ServerContext) async throws -> Switchboard_Location_V1_UserLocation {
        throw RPCError(code: .unimplemented, message: "slow test service")
    }

    func nearby(request: Switchboard_Location_V1_NearbyRequest, context: ServerContext) async throws -> Switchboard_Location_V1_NearbyResponse {
        throw RPCError(code: .unimplemented, message: "slow test service")
    }
}
