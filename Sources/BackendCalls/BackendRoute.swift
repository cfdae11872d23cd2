package import GRPCCore
package import GRPCSupport
package import SwiftProtobuf
package import SwitchboardProtocol

/// One client call name mapped to one typed unary gRPC method of a backend.
///
/// Adding a route is one `Route` in SwitchboardWire (the list clients call by) and one
/// `BackendRoute.unary(...)` declaration here: decoding the client's JSON or
/// binary arguments into the typed request, and the response back, is the same code
/// path for every route.
package struct BackendRoute: Sendable {
    /// What clients put in `call`, e.g. `chat.send`.
    package let name: String
    /// Which backend serves it: a key of the node's backend addresses.
    package let backend: String
    /// Deadline of one call.
    package let timeout: Duration
    private let invoke: @Sendable (GRPCHTTP2Client, RouteArguments, Metadata, CallOptions) async throws -> RouteResult

    package static func unary<Request: SwiftProtobuf.Message & Sendable, Response: SwiftProtobuf.Message & Sendable>(
        _ name: String,
        backend: String,
        timeout: Duration = .seconds(5),
        _ call: @escaping @Sendable (GRPCHTTP2Client, Request, Metadata, CallOptions) async throws -> Response
    ) -> BackendRoute {
        BackendRoute(name: name, backend: backend, timeout: timeout) { client, arguments, metadata, options in
            switch arguments {
            case .json(let value):
                let response = try await call(client, try decode(Request.self, fromJSON: value), metadata, options)
                return .json(try Google_Protobuf_Value(jsonString: try response.jsonString(options: jsonEncoding)))
            case .binary(let bytes):
                let request: Request
                do {
                    request = try Request(serializedBytes: bytes)
                } catch {
                    throw RouteArgumentError(field: nil, detail: "payload is not a \(Request.protoMessageName): \(error)")
                }
                return .binary(try await call(client, request, metadata, options).serializedBytes())
            }
        }
    }

    /// `route` (from the wire's list) served by `backend`'s `call`: the name and the
    /// message types come from the list, so the two cannot drift apart.
    package static func unary<Request, Response>(
        _ route: Route<Request, Response>,
        backend: String,
        timeout: Duration = .seconds(5),
        _ call: @escaping @Sendable (GRPCHTTP2Client, Request, Metadata, CallOptions) async throws -> Response
    ) -> BackendRoute {
        unary(route.name, backend: backend, timeout: timeout, call)
    }

    private init(
        name: String, backend: String, timeout: Duration,
        invoke: @escaping @Sendable (GRPCHTTP2Client, RouteArguments, Metadata, CallOptions) async throws -> RouteResult
    ) {
        self.name = name
        self.backend = backend
        self.timeout = timeout
        self.invoke = invoke
    }

    /// The same call with another deadline.
    package func withTimeout(_ timeout: Duration) -> BackendRoute {
        BackendRoute(name: name, backend: backend, timeout: timeout, invoke: invoke)
    }

    /// The deadline of a call that asked for `requested` (nil or zero: none): never past
    /// the route's own.
    package func deadline(requested: Duration?) -> Duration {
        guard let requested, requested > .zero else { return timeout }
        return min(requested, timeout)
    }

    /// Calls the backend within `deadline(requested:)`, which the backend receives as the
    /// gRPC deadline; throws `RouteArgumentError` for bad arguments and `RPCError` for the call.
    package func callAsFunction(
        _ client: GRPCHTTP2Client, _ arguments: RouteArguments, metadata: Metadata, timeout requested: Duration? = nil
    ) async throws -> RouteResult {
        var options = CallOptions.defaults
        options.timeout = deadline(requested: requested)
        // A backend that is down must answer `unavailable` at once, not at the deadline.
        options.waitForReady = false
        return try await invoke(client, arguments, metadata, options)
    }

    /// 64-bit numbers as JSON numbers: natural for JSON clients (exact below 2^53, which
    /// covers millisecond times and counts).
    private static let jsonEncoding: JSONEncodingOptions = {
        var options = JSONEncodingOptions()
        options.alwaysPrintInt64sAsNumbers = true
        return options
    }()

    /// Decodes with protobuf's JSON mapping; on failure, names the top-level field at fault.
    static func decode<Request: SwiftProtobuf.Message>(_: Request.Type, fromJSON value: Google_Protobuf_Value) throws -> Request {
        let object: Google_Protobuf_Value
        switch value.kind {
        case .structValue: object = value
        case nil, .nullValue: return Request()
        default: throw RouteArgumentError(field: nil, detail: "data must be a JSON object with the fields of \(Request.protoMessageName)")
        }
        do {
            return try Request(jsonString: try object.jsonString())
        } catch {
            for (field, fieldValue) in object.structValue.fields.sorted(by: { $0.key < $1.key }) {
                let single = Google_Protobuf_Value(structValue: Google_Protobuf_Struct(fields: [field: fieldValue]))
                if (try? Request(jsonString: try single.jsonString())) == nil {
                    throw RouteArgumentError(field: field, detail: "not valid for \(Request.protoMessageName) (\(error))")
                }
            }
            throw RouteArgumentError(field: nil, detail: "\(error)")
        }
    }
}
