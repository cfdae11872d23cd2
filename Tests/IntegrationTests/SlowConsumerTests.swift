import Foundation
import GRPCCore
import Node
import Routing
import SwiftProtobuf
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

@Suite("Slow consumers", .tags(.slow), .timeLimit(.minutes(4)))
struct SlowConsumerTests {
    private static func small(_ configuration: inout NodeConfiguration) {
        configuration.queueMessages = 256
        configuration.queueBytes = 256 * 1024
        // Floods are what these tests send: the rate limit has tests of its own.
        configuration.clientRate = 1_000_000
        configuration.clientBurst = 1_000_000
        configuration.clientBytesRate = 1 << 40
        // A client that does not read answers no ping either: liveness would close it once
        // a slow machine let the ping interval pass. It has tests of its own (virtual time).
        configuration.pingInterval = .seconds(3600)
    }

    private static func authorized() -> Metadata {
        var metadata = Metadata()
        metadata.addString("Bearer \(RunningNode.pushSecret)", forKey: "authorization")
        return metadata
    }

    @Test("a client that stops reading is closed as a slow consumer once backend pushes fill its queue; another keeps receiving every push")
    func slowConsumerIsClosed() async throws {
        try await withNode(configure: Self.small) { node in
            // A client that stops reading right after its welcome, with a 4 KiB receive
            // buffer: what it holds is its queue's worth, not megabytes of loopback buffers,
            // so the test sends as many pushes as that takes, however slow the machine.
            let sloth = try await RawConnection.connect(port: node.port, receiveBufferBytes: 4096)
            _ = try await sloth.upgrade(token: node.token(for: "sloth"))
            try await sloth.pauseReading()
            let fast = try await node.connect("fast")
            try await waitUntil { node.node.connectionCount == 2 }

            // Pushes of 64 KiB to the sloth, each followed by one to the fast client, until
            // the Gateway API has answered "offline" for the sloth three times (it was
            // closed); 2,000 would be 128 MiB, far more than any buffer on the way holds.
            let padding = String(repeating: "p", count: 64 * 1024)
            let (sent, slothOffline) = try await withGRPCClient(port: node.grpcPort) { client in
                let gateway = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                var offline = 0
                var sent = 0
                while offline < 3, sent < 2000 {
                    var toSloth = Switchboard_Gateway_V1_PushToUserRequest()
                    toSloth.user = "sloth"
                    toSloth.push.data = .init(stringValue: padding)
                    // Not kept for a resume (a notification is, by default), so it can be offline.
                    toSloth.durable = false
                    if try await gateway.pushToUser(toSloth, metadata: Self.authorized()).offline { offline += 1 }
                    var toFast = Switchboard_Gateway_V1_PushToUserRequest()
                    toFast.user = "fast"
                    toFast.push.data = .init(structValue: ["n": .init(numberValue: Double(sent))])
                    _ = try await gateway.pushToUser(toFast, metadata: Self.authorized())
                    sent += 1
                }
                return (sent, offline)
            }
            #expect(slothOffline == 3, "pushes to the slow consumer after its close report offline (\(sent) sent)")
            for n in 0..<sent {
                let push = try #require(try await fast.receiveJSON()["push"] as? [String: Any])
                #expect((push["data"] as? [String: Any])?["n"] as? Int == n)
            }
            // Once it reads again, the slow client finds what its socket still held, then the end.
            sloth.resumeReading()
            try await waitUntil { sloth.isClosed }
            let frames = sloth.framesAfterWelcome
            let pushes = frames.filter { $0.opcode == WebSocketWire.text && $0.text.contains(#""push""#) }.count
            #expect(pushes < sent - slothOffline, "the queue's overflow was dropped, not delivered")
            try await waitUntil { node.node.connectionCount == 1 }
            try await waitUntil {
                try await node.metricValue("switchboard_closes_total", labels: ["reason": "slow_consumer"]) == 1
            }
            #expect(try await node.metricValue("switchboard_queue_drops_total") > 0)
            try await fast.close()
        }
    }

    @Test("other users' messages alone never get a receiver closed: past half its queue they are refused receiver_busy, and it keeps its socket")
    func floodedReceiverStays() async throws {
        try await withNode(configure: Self.small) { node in
            let flooder = try await node.connect("flooder")
            // A receiver that stops reading, with a 4 KiB receive buffer (see above).
            let victim = try await RawConnection.connect(port: node.port, receiveBufferBytes: 4096)
            _ = try await victim.upgrade(token: node.token(for: "victim"))
            try await victim.pauseReading()
            let bystander = try await node.connect("bystander")
            try await waitUntil { node.node.connectionCount == 3 }

            // Until five messages to the victim have been refused (at most 400 rounds).
            let padding = String(repeating: "f", count: 60 * 1024)
            var busy = 0
            var rounds = 0
            while busy < 5, rounds < 400 {
                let n = rounds
                flooder.send(#"{"id":"v\#(n)","send":{"to":"victim","data":"\#(padding)"}}"#)
                flooder.send(#"{"id":"b\#(n)","send":{"to":"bystander","data":{"n":\#(n)}}}"#)
                for _ in 0..<2 {
                    let reply = try await flooder.receiveJSON()
                    if let error = reply["error"] as? [String: Any] {
                        #expect(error["code"] as? String == "receiver_busy")
                        #expect(reply["id"] as? String == "v\(n)")
                        busy += 1
                    }
                }
                rounds += 1
            }
            for n in 0..<rounds {
                let push = try #require(try await bystander.receiveJSON()["push"] as? [String: Any])
                #expect((push["data"] as? [String: Any])?["n"] as? Int == n)
            }
            #expect(busy == 5, "the flood reached the victim's half-full queue (\(rounds) rounds)")
            #expect(node.node.connectionCount == 3, "the victim keeps its socket")
            #expect(try await node.metricValue("switchboard_limit_hits_total", labels: ["limit": "receiver_queue"]) == Double(busy))
            // It reads again: what was queued arrives, and it is still served.
            victim.resumeReading()
            func pushes() -> [[String: Any]] {
                victim.framesAfterWelcome.compactMap { frame in
                    (try? JSONSerialization.jsonObject(with: Data(frame.payload)) as? [String: Any])?["push"] as? [String: Any]
                }
            }
            try await waitUntil(timeout: .seconds(60)) { pushes().count >= rounds - busy }
            #expect(pushes().count == rounds - busy)
            #expect(pushes().allSatisfy { $0["origin"] as? String == "user" })
            flooder.send(#"{"id":"after","send":{"to":"victim","data":"still here"}}"#)
            try await waitUntil { pushes().count == rounds - busy + 1 }
            #expect(pushes().last?["data"] as? String == "still here")
            #expect(!victim.isClosed)
            #expect(try await node.metricValue("switchboard_closes_total", labels: ["reason": "slow_consumer"]) == 0)
            for client in [flooder, bystander] { try await client.close() }
            await victim.close()
        }
    }

    @Test("a publisher flooding a topic never gets a subscriber closed: past half its queue a slow subscriber's copies are dropped; another subscriber gets every one")
    func floodedSubscriberStays() async throws {
        try await withNode(configure: {
            Self.small(&$0)
            $0.topicNamespaces = try! TopicNamespaces(parsing: "room:subscribe=any,publish=any")
        }) { node in
            let flooder = try await node.connect("flooder")
            let victim = try await RawConnection.connect(port: node.port, receiveBufferBytes: 4096)
            _ = try await victim.upgrade(token: node.token(for: "victim"))
            try await victim.write(WebSocketWire.frame(WebSocketWire.text, #"{"id":"s","subscribe":{"topic":"room:flood"}}"#))
            try await waitUntil { victim.framesAfterWelcome.count == 1 }
            try await victim.pauseReading()
            let bystander = try await node.connect("bystander")
            bystander.send(#"{"id":"s","subscribe":{"topic":"room:flood"}}"#)
            #expect((try await bystander.receiveJSON()["ok"] as? [String: Any])?["topic"] as? String == "room:flood")

            let padding = String(repeating: "f", count: 60 * 1024)
            var rounds = 0
            while try await node.metricValue("switchboard_limit_hits_total", labels: ["limit": "receiver_queue"]) < 5, rounds < 400 {
                flooder.send(#"{"id":"p\#(rounds)","publish":{"topic":"room:flood","data":{"n":\#(rounds),"p":"\#(padding)"}}}"#)
                let answer = try #require(try await flooder.receiveJSON()["ok"] as? [String: Any])
                #expect(answer["relayedNodes"] as? Int == 0)
                let push = try #require(try await bystander.receiveJSON()["push"] as? [String: Any])
                #expect((push["data"] as? [String: Any])?["n"] as? Int == rounds, "the bystander gets every one, in order")
                rounds += 1
            }
            #expect(rounds < 400, "the flood reached the victim's half-full queue")
            #expect(node.node.connectionCount == 3, "the victim keeps its socket")
            #expect(!victim.isClosed)
            #expect(try await node.metricValue("switchboard_closes_total", labels: ["reason": "slow_consumer"]) == 0)
            for client in [flooder, bystander] { try await client.close() }
            await victim.close()
        }
    }

    @Test("chat.send floods from 4 sockets reach the receiver as backend pushes, and are shed like sends: it is never closed, and a backend's own push still gets through")
    func floodThroughBackend() async throws {
        try await withNodeAndBackends(configure: Self.small) { system in
            let node = system.node
            let victim = try await RawConnection.connect(port: node.port, receiveBufferBytes: 4096)
            _ = try await victim.upgrade(token: node.token(for: "victim"))
            try await victim.pauseReading()
            var flooders: [TestWebSocket] = []
            for n in 0..<4 { flooders.append(try await node.connect("flooder\(n)")) }
            try await waitUntil { node.node.connectionCount == 5 }

            // Rounds of one 4 KiB chat message from each flooder, until the node has shed
            // twenty of them (past half the victim's queue) or 600 rounds have passed.
            let text = String(repeating: "c", count: 4000)
            var rounds = 0
            while rounds < 600 {
                for (n, flooder) in flooders.enumerated() {
                    flooder.send(#"{"id":"c\#(rounds)-\#(n)","call":"chat.send","data":{"to":"victim","text":"\#(text)"}}"#)
                }
                for flooder in flooders { #expect(try await flooder.receiveJSON()["ok"] != nil) }
                rounds += 1
                if try await node.metricValue("switchboard_limit_hits_total", labels: ["limit": "receiver_queue"]) >= 20 { break }
            }
            #expect(try await node.metricValue("switchboard_limit_hits_total", labels: ["limit": "receiver_queue"]) >= 20, "\(rounds) rounds")
            #expect(!victim.isClosed && node.node.connectionCount == 5, "the victim keeps its socket")
            #expect(try await node.metricValue("switchboard_closes_total", labels: ["reason": "slow_consumer"]) == 0)
            // The backends' own pushes are not shed: one still fits behind the half-full queue.
            try await withGRPCClient(port: node.grpcPort) { client in
                var alert = Switchboard_Gateway_V1_PushToUserRequest()
                alert.user = "victim"
                alert.push.kind = "alert"
                alert.durable = false
                let outcome = try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client).pushToUser(alert, metadata: Self.authorized())
                #expect(outcome.deliveredLocal == 1)
            }
            // It reads again: the alert arrives after what was queued.
            victim.resumeReading()
            try await waitUntil(timeout: .seconds(60)) {
                victim.framesAfterWelcome.contains { String(decoding: $0.payload, as: UTF8.self).contains(#""kind":"alert""#) }
            }
            for flooder in flooders { try await flooder.close() }
            await victim.close()
        }
    }
}
