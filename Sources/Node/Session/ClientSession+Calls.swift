import GRPCCore
import GRPCSupport
import Identity
import Logging
import Presence
import BackendCalls
import Routing
import SwitchboardProtocol

/// Backend calls: a client's `call` sent as the route's typed gRPC request.
extension ClientSession {
    /// Checks the route and the caps now, in frame order; the call itself runs later.
    func prepareCall(_ name: String, frame: Switchboard_V1_ClientFrame, binary: Bool) -> (@Sendable () async -> Void)? {
        if let answered = prepareNodeCall(name, frame: frame) { return answered }
        guard let route = services.routes[name] else {
            reply(to: frame.id, error: .unknownRoute, "no route for call '\(name)'")
            return nil
        }
        guard acquireCall(id: frame.id) else { return nil }
        switch services.backends.lease(route.backend) {
        case .notConfigured:
            connection.calls.release()
            reply(to: frame.id, error: .unavailable, "backend '\(route.backend)' is not configured on this node")
            return nil
        case .busy:
            connection.calls.release()
            services.metrics.backendCall(route.backend, .busy)
            reply(
                to: frame.id, error: .busy, "backend '\(route.backend)' has \(services.backends.maxInFlight) calls in flight",
                retryAfter: Self.busyRetryAfter
            )
            return nil
        case .open(let retryAfter):
            connection.calls.release()
            services.metrics.backendCall(route.backend, .unavailable)
            reply(to: frame.id, error: .unavailable, "backend '\(route.backend)' is failing; calls to it are paused", retryAfter: retryAfter)
            return nil
        case .granted(let lease):
            let arguments: RouteArguments = binary ? .binary(Array(frame.payload)) : .json(frame.data)
            let id = frame.id
            let timeout: Duration? = frame.timeoutMs > 0 ? .milliseconds(frame.timeoutMs) : nil
            return {
                lease.finish(await perform(route, on: lease.client, arguments, timeout: timeout, id: id))
                connection.calls.release()
            }
        }
    }

    /// The retry hint of a call refused because its backend is at its in-flight cap.
    static let busyRetryAfter: Duration = .milliseconds(100)

    /// The calls the node answers itself (`switchboard.*`): in flight, they count against
    /// the same per-connection cap as backend calls. Nil when `name` is not one of them.
    private func prepareNodeCall(_ name: String, frame: Switchboard_V1_ClientFrame) -> (@Sendable () async -> Void)?? {
        let prepare: () -> (@Sendable () async -> Void)?
        switch name {
        case Self.clusterStatsCall: prepare = { self.prepareClusterStats(id: frame.id) }
        case Self.inboxCall: prepare = { self.prepareInboxRead(id: frame.id, arguments: frame.data) }
        case Self.refreshCall: prepare = { self.prepareTokenRefresh(id: frame.id, arguments: frame.data) }
        default: return nil
        }
        guard acquireCall(id: frame.id) else { return .some(nil) }
        guard let call = prepare() else {
            connection.calls.release()
            return .some(nil)
        }
        let connection = self.connection
        return {
            await call()
            connection.calls.release()
        }
    }

    /// One more call in flight on this connection, or a `busy` answer.
    private func acquireCall(id: String) -> Bool {
        guard connection.calls.acquire(limit: services.configuration.maxCallsPerConnection) else {
            reply(to: id, error: .busy, "more than \(services.configuration.maxCallsPerConnection) calls in flight on this connection")
            return false
        }
        return true
    }

    /// Makes the call and answers it; returns what the call says about the backend's health.
    private func perform(
        _ route: BackendRoute, on client: GRPCHTTP2Client, _ arguments: RouteArguments, timeout: Duration?, id: String
    ) async -> CircuitBreaker.Outcome {
        var metadata = services.backends.callMetadata
        metadata.addString(connection.user, forKey: "x-switchboard-user")
        metadata.addString(connection.id.description, forKey: "x-switchboard-connection")
        do {
            switch try await route(client, arguments, metadata: metadata, timeout: timeout) {
            case .json(let value): reply(to: id, ok: value)
            case .binary(let bytes): reply(to: id, okPayload: bytes)
            }
            services.metrics.backendCall(route.backend, nil)
            return .success
        } catch let error as RouteArgumentError {
            reply(to: id, error: .invalidArgument, "\(route.name): \(error)")
            return .abandoned
        } catch let error as RPCError {
            if Task.isCancelled {
                // The connection went: the call was cancelled, and nobody is left to answer.
                services.metrics.backendCall(route.backend, outcome: "cancelled")
                return .abandoned
            }
            let code = ErrorCode(error.code)
            services.metrics.backendCall(route.backend, code)
            switch code {
            case .invalidArgument, .notFound, .permissionDenied, .busy:
                // The backend's own answer about the request: meant for the caller.
                logger.debug("backend call failed", metadata: ["route": "\(route.name)", "grpc.code": "\(error.code)"])
                reply(to: id, error: code, "\(route.name): \(error.message.prefix(200))")
                return .success
            case .timeout where timeout.map({ route.deadline(requested: $0) < route.timeout }) == true:
                // The caller's own shorter deadline passed: that says little about the backend.
                reply(to: id, error: .timeout, "\(route.name): no answer within the call's timeoutMs")
                return .abandoned
            default:
                // Transport and server failures name addresses and internals: logged only.
                reply(to: id, code, "\(route.name): the backend failed (\(code.rawValue))", incident: error)
                return .failure
            }
        } catch {
            services.metrics.backendCall(route.backend, .internal)
            reply(to: id, .internal, "\(route.name): the call failed", incident: error)
            return .failure
        }
    }
}
