import Auth

extension TokenAuthenticator {
    /// The user id of the token a client request carries (header or `?token=`).
    func authenticate(request: ClientRequest) async throws(AuthenticationError) -> String {
        guard let token = request.token else { throw .missingToken }
        return try await authenticate(token: token)
    }
}
