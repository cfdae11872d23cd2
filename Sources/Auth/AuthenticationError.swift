/// Why a client was refused at connect; the message goes into the 401 body.
package enum AuthenticationError: Error, CustomStringConvertible, Equatable {
    case missingToken
    case expired
    case invalid(String)

    package var description: String {
        switch self {
        case .missingToken: "no token: send 'Authorization: Bearer <token>' or '?token=<token>'"
        case .expired: "the token has expired"
        case .invalid(let reason): "the token is not valid: \(reason)"
        }
    }
}
