/// The stable error codes a client can see in `error.code`, and in refusals before the
/// upgrade (docs/protocol.md § Error codes). An unknown code is treated as `internal`.
public enum ErrorCode: String, Sendable, CaseIterable {
    /// The frame could not be decoded, or named no operation.
    case badFrame = "bad_frame"
    /// A required field is missing or has the wrong type.
    case invalidArgument = "invalid_argument"
    /// No route is configured for the called name.
    case unknownRoute = "unknown_route"
    /// The target user has no connection anywhere.
    case offline
    /// A dependency (presence, relay, a backend) cannot be reached right now.
    case unavailable
    /// The backend did not answer within the route's deadline.
    case timeout
    /// The backend found no such thing.
    case notFound = "not_found"
    /// The backend refused the caller.
    case permissionDenied = "permission_denied"
    /// Too many calls in flight, from this connection or to this backend: retry later.
    case busy
    /// The connection sent faster than its rate limit; the frame was not handled: slow down.
    case rateLimited = "rate_limited"
    /// (HTTP 401 at connect) The token is missing, malformed, wrongly signed or expired.
    case unauthenticated
    /// (HTTP 503 at connect) The node is shutting down.
    case draining
    /// (HTTP 403 at connect) A browser page from an origin the node does not allow.
    case originNotAllowed = "origin_not_allowed"
    /// (HTTP 429 at connect) The user holds `max-connections-per-user` connections on this node.
    case tooManyConnections = "too_many_connections"
    /// (HTTP 429 at connect) The user connected more than `user-connects-per-minute` times.
    case tooManyConnects = "too_many_connects"
    /// A per-connection limit other than the rates, such as the topics one connection may
    /// be subscribed to, is reached: the request was not carried out.
    case limitExceeded = "limit_exceeded"
    /// The receiver's queue is half full of other users' messages: this one was dropped.
    case receiverBusy = "receiver_busy"
    /// (HTTP 400) A request the client port does not take, such as one with a body.
    case badRequest = "bad_request"
    /// (HTTP 426) `GET /ws` without a WebSocket upgrade.
    case upgradeRequired = "upgrade_required"
    /// A bug or an unexpected failure in the node.
    case `internal`
}
