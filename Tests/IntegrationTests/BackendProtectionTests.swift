import GRPCCore
import GRPCSupport
import NIOWebSocket
import Node
import BackendCalls
import Routing
import Synchronization
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport
import WSCore

/// What a node does for its clients when a backend is slow, hangs or fails: deadlines the
/// backend sees, calls cancelled when their client goes, and a circuit breaker.
@Suite("Backend deadlines, cancellation and circuit breaker", .timeLimit(.minutes(2)))
struct BackendProtectionTests {
    @Test("a call's timeoutMs reaches the backend as its gRPC deadline, capped by the route's, and ends the call as timeout")
    func clientDeadline() async throws {
        let backend = HangingLocationService()
        try await withHangingBackend(backend, routeTimeout: .seconds(20)) { node in
            let alice = try await node.connect("alice")
            // On a busy machine a 300 ms deadline can pass before the first call's stream is
            // open: then the node answers timeout without the backend hearing of it. Calls
            // go on until one has reached the backend; every one ends as timeout.
            try await waitUntil {
                alice.send(#"{"id":"short","call":"hang.update","timeoutMs":300,"data":{"latitude":1,"longitude":2}}"#)
                let reply = try await alice.receiveJSON()
                #expect(reply["id"] as? String == "short")
                #expect((reply["error"] as? [String: Any])?["code"] as? String == "timeout")
                return !backend.deadlines.isEmpty
            }
            // The backend was told the deadline (grpc-timeout), and its handler was cancelled at it.
            #expect(backend.deadlines.allSatisfy { $0 > .zero && $0 <= .milliseconds(300) }, "\(backend.deadlines)")
            try await waitUntil { backend.cancelled == backend.deadlines.count }

            // Longer than the route allows: the route's deadline is sent instead.
            let before = backend.deadlines.count
            alice.send(#"{"id":"long","call":"hang.update","timeoutMs":3600000,"data":{"latitude":1,"longitude":2}}"#)
            try await waitUntil { backend.deadlines.count == before + 1 }
            let capped = backend.deadlines[before]
            #expect(capped > .seconds(10) && capped <= .seconds(20))
            try await alice.close()
        }
    }

    @Test("a client that disconnects, or whose connection the node closes, cancels its calls in flight: the backend sees them reset")
    func cancelledWithTheConnection() async throws {
        let backend = HangingLocationService()
        try await withHangingBackend(backend, routeTimeout: .seconds(60)) { node in
            let alice = try await node.connect("alice")
            for n in 0..<3 { alice.send(#"{"id":"a\#(n)","call":"hang.update","data":{"latitude":1,"longitude":2}}"#) }
            try await waitUntil { backend.started == 3 }
            try await alice.close()
            try await waitUntil { backend.cancelled == 3 }

            // Closed by the node: a backend disconnects the user through the Gateway API.
            let bob = try await node.connect("bob")
            bob.send(#"{"id":"b","call":"hang.update","data":{"latitude":1,"longitude":2}}"#)
            try await waitUntil { backend.started == 4 }
            try await withGRPCClient(port: node.grpcPort) { client in
                var request = Switchboard_Gateway_V1_DisconnectUserRequest()
                request.user = "bob"
                _ = try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                    .disconnectUser(request, metadata: ["authorization": "Bearer \(RunningNode.pushSecret)"])
            }
            #expect(try await bob.closed()?.closeCode == .init(codeNumber: 4003))
            try await waitUntil { backend.cancelled == 4 }
            // A cancelled call is no backend failure.
            #expect(try await node.metricValue("switchboard_backend_circuit_opened_total", labels: ["backend": "location"]) == 0)
            #expect(try await node.metricValue("switchboard_backend_calls_total", labels: ["backend": "location", "outcome": "cancelled"]) == 4)
        }
    }

    @Test("a backend that never answers, under load: calls time out, then its circuit opens and they are answered at once with a retry hint; other routes and the node go on")
    func hangingBackendOpensTheCircuit() async throws {
        let backend = HangingLocationService()
        try await withHangingBackend(backend, routeTimeout: .seconds(1), configure: {
            $0.backendFailuresToOpen = 3
            $0.backendOpenFor = .seconds(60)
            $0.maxBackendInFlight = 8
            $0.maxCallsPerConnection = 64
        }) { node in
            let alice = try await node.connect("alice")
            // 40 calls at once against a cap of 8: the rest are refused busy at once; those in
            // flight time out, and their failures open the circuit (how many of each depends
            // on how fast this machine reads the 40 frames, not what each answer may be).
            for n in 0..<40 { alice.send(#"{"id":"c\#(n)","call":"hang.update","data":{"latitude":1,"longitude":2}}"#) }
            var codes: [String: Int] = [:]
            for _ in 0..<40 {
                let error = try #require(try await alice.receiveJSON()["error"] as? [String: Any])
                let code = error["code"] as? String ?? "?"
                codes[code, default: 0] += 1
                if code == "busy" || code == "unavailable" {
                    #expect((error["retryAfterMs"] as? Double ?? 0) > 0, "a \(code) answer says when to retry")
                }
            }
            #expect(Set(codes.keys).isSubset(of: ["busy", "timeout", "unavailable"]), "\(codes)")
            #expect(codes["busy", default: 0] >= 1 && codes["timeout", default: 0] >= 3, "\(codes)")
            #expect(backend.mostAtOnce <= 8, "never more calls at the backend than the cap")

            // Open: refused at once, with the time left, and never sent to the backend (marked
            // by its latitude: on a busy machine, calls that timed out in the node may still
            // reach the backend late).
            alice.send(#"{"id":"open","call":"hang.update","data":{"latitude":9,"longitude":2}}"#)
            let refused = try #require(try await alice.receiveJSON()["error"] as? [String: Any])
            #expect(refused["code"] as? String == "unavailable")
            #expect((refused["retryAfterMs"] as? Double ?? 0) > 1000)
            #expect(try await node.metricValue("switchboard_backend_circuit_state", labels: ["backend": "location"]) == 2)
            #expect(try await node.metricValue("switchboard_backend_circuit_opened_total", labels: ["backend": "location"]) == 1)

            // The node and its other answers are unaffected.
            alice.send(#"{"id":"p","ping":{}}"#)
            #expect(try await alice.receiveJSON()["ok"] != nil)
            let bob = try await node.connect("bob")
            alice.send(#"{"id":"s","send":{"to":"bob","data":{"text":"still here"}}}"#)
            #expect(try await alice.receiveJSON()["ok"] != nil)
            #expect((try await bob.receiveJSON()["push"] as? [String: Any]) != nil)
            #expect(!backend.latitudes.contains(9), "the call refused by the open circuit reached the backend")
            try await alice.close()
            try await bob.close()
        }
    }

    @Test("an open circuit lets one probe through after its period; the probe's success closes it")
    func probeCloses() async throws {
        let backend = HangingLocationService()
        // The route's deadline is long enough that a probe the backend answers at once cannot
        // miss it on a saturated machine; only the two calls before it wait it out.
        try await withHangingBackend(backend, routeTimeout: .seconds(3), configure: {
            $0.backendFailuresToOpen = 2
            $0.backendOpenFor = .milliseconds(300)
        }) { node in
            let alice = try await node.connect("alice")
            for n in 0..<2 {
                alice.send(#"{"id":"t\#(n)","call":"hang.update","data":{"latitude":1,"longitude":2}}"#)
                #expect((try await alice.receiveJSON()["error"] as? [String: Any])?["code"] as? String == "timeout")
            }
            #expect(try await node.metricValue("switchboard_backend_circuit_opened_total", labels: ["backend": "location"]) == 1)
            backend.answers.store(true, ordering: .relaxed)
            // Refused while open; once the period is over a probe goes out, succeeds, and closes it.
            try await waitUntil {
                alice.send(#"{"id":"probe","call":"hang.update","data":{"latitude":1,"longitude":2}}"#)
                return try await alice.receiveJSON()["ok"] != nil
            }
            #expect(try await node.metricValue("switchboard_backend_circuit_state", labels: ["backend": "location"]) == 0)
            try await alice.close()
        }
    }

    /// A node whose `hang.update` route goes to `backend`, served on a loopback port.
    private func withHangingBackend(
        _ backend: HangingLocationService, routeTimeout: Duration, configure: @escaping @Sendable (inout NodeConfiguration) -> Void = { _ in },
        _ body: @Sendable (RunningNode) async throws -> Void
    ) async throws {
        let (bound, continuation) = AsyncStream.makeStream(of: Int.self)
        let server = GRPCServerService(host: "127.0.0.1", port: 0, service: backend, interceptors: [backend.deadlineRecorder]) {
            continuation.yield($0)
        }
        let serverTask = Task { try await server.run() }
        defer { serverTask.cancel() }
        var ports = bound.makeAsyncIterator()
        let port = try #require(await ports.next())
        let routes = RouteTable([
            .unary("hang.update", backend: "location", timeout: routeTimeout) {
                (client, request: Switchboard_Location_V1_UpdateLocationRequest, metadata, options) in
                try await Switchboard_Location_V1_LocationService.Client(wrapping: client)
                    .updateLocation(request, metadata: metadata, options: options)
            },
        ])
        try await withNode(routes: routes, configure: {
            $0.backends = ["location": GRPCEndpoint(host: "127.0.0.1", port: port)]
            configure(&$0)
        }, body)
    }
}

/// A Location service whose updates hang until gRPC cancels them (or answer, once
/// `answers` is set), recording what it saw.
final class HangingLocationService: Switchboard_Location_V1_LocationService.SimpleServiceProtocol, Sendable {
    private let counts = Mutex((started: 0, cancelled: 0, deadlines: [Duration](), atOnce: 0, mostAtOnce: 0, latitudes: [Double]()))
    let answers = Atomic<Bool>(false)

    var started: Int { counts.withLock { $0.started } }
    var cancelled: Int { counts.withLock { $0.cancelled } }
    var deadlines: [Duration] { counts.withLock { $0.deadlines } }
    /// The most calls it held at the same time.
    var mostAtOnce: Int { counts.withLock { $0.mostAtOnce } }
    /// The latitude of every call that reached it, in arrival order.
    var latitudes: [Double] { counts.withLock { $0.latitudes } }

    /// Records the gRPC deadline (`grpc-timeout`) each call arrived with.
    var deadlineRecorder: DeadlineRecorder { DeadlineRecorder(service: self) }

    struct DeadlineRecorder: ServerInterceptor {
        let service: HangingLocationService

        func intercept<Input: Sendable, Output: Sendable>(
            request: StreamingServerRequest<Input>, context: ServerContext,
            next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
        ) async throws -> StreamingServerResponse<Output> {
            if let text = request.metadata[stringValues: "grpc-timeout"].first(where: { _ in true }), let deadline = Self.parse(text) {
                service.counts.withLock { $0.deadlines.append(deadline) }
            }
            return try await next(request, context)
        }

        /// gRPC's `grpc-timeout`: digits and a unit (H, M, S, m, u, n).
        static func parse(_ text: String) -> Duration? {
            guard let unit = text.last, let value = Int64(text.dropLast()) else { return nil }
            switch unit {
            case "H": return .seconds(value * 3600)
            case "M": return .seconds(value * 60)
            case "S": return .seconds(value)
            case "m": return .milliseconds(value)
            case "u": return .microseconds(value)
            case "n": return .nanoseconds(value)
            default: return nil
            }
        }
    }

    func updateLocation(
        request: Switchboard_Location_V1_UpdateLocationRequest, context: ServerContext
    ) async throws -> Switchboard_Location_V1_UpdateLocationResponse {
        counts.withLock {
            $0.started += 1
            $0.latitudes.append(request.latitude)
            $0.atOnce += 1
            $0.mostAtOnce = max($0.mostAtOnce, $0.atOnce)
        }
        defer { counts.withLock { $0.atOnce -= 1 } }
        if answers.load(ordering: .relaxed) { return .init() }
        // Waits until gRPC cancels the RPC: the client reset the stream or its deadline passed.
        let (cancellation, cancel) = AsyncStream.makeStream(of: Never.self)
        await withRPCCancellationHandler {
            for await _ in cancellation {}
        } onCancelRPC: {
            self.counts.withLock { $0.cancelled += 1 }
            cancel.finish()
        }
        throw RPCError(code: .cancelled, message: "cancelled")
    }

    func getLocation(request: Switchboard_Location_V1_GetLocationRequest, context: ServerContext) async throws -> Switchboard_Location_V1_UserLocation {
        throw RPCError(code: .unimplemented, message: "hanging test service")
    }

    func nearby(request: Switchboard_Location_V1_NearbyRequest, context: ServerContext) async throws -> Switchboard_Location_V1_NearbyResponse {
        throw RPCError(code: .unimplemented, message: "hanging test service")
    }
}
