import Auth

extension TokenAuthenticator {
    /// Who the token a client request carries (header or `?token=`).
    func verify(request: ClientRequest) async throws(AuthenticationError) -> VerifiedToken {
        guard let token = request.token else { throw .missingToken }
        return try await verify(token: token)
    }
}
