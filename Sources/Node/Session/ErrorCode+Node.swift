import GRPCCore
import SwitchboardProtocol

extension ErrorCode {
    /// The client-facing code for a backend's gRPC status.
    init(_ code: RPCError.Code) {
        switch code {
        case .unavailable, .cancelled, .aborted: self = .unavailable
        case .deadlineExceeded: self = .timeout
        case .invalidArgument, .outOfRange, .failedPrecondition: self = .invalidArgument
        case .notFound: self = .notFound
        case .permissionDenied, .unauthenticated: self = .permissionDenied
        case .resourceExhausted: self = .busy
        default: self = .internal
        }
    }
}

extension Switchboard_V1_Error {
    init(code: ErrorCode, message: String) {
        self.init()
        self.code = code.rawValue
        self.message = message
    }
}
