import Foundation
import JWTKit

extension FuzzTarget {
    /// Signs the input as a token's payload, exactly as given, with the node's HS256
    /// secret, and connects with it; then sends a ping, so that an accepted connection
    /// runs its timers (the token's expiry among them).
    static func token(claims: [UInt8]) {
        let token = blocking { () -> String? in
            let keys = JWTKeyCollection(defaultJWTSerializer: RawClaimsSerializer())
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            return try? await keys.sign(RawClaims(bytes: claims))
        }
        guard let token else { return }
        // A masked text frame `{"id":"1","ping":{}}` with a zero mask.
        let ping = Array(#"{"id":"1","ping":{}}"#.utf8)
        pipeline(upgradeFirst: true, upgrade: upgradeRequest(token: token), [0x81, 0x80 | UInt8(ping.count), 0, 0, 0, 0] + ping)
    }
}

/// A payload that is the fuzzer's bytes, whatever they say.
private struct RawClaims: JWTPayload {
    let bytes: [UInt8]
    func verify(using algorithm: some JWTAlgorithm) async throws {}
    init(bytes: [UInt8]) { self.bytes = bytes }
    init(from decoder: any Decoder) throws { bytes = [] }
    func encode(to encoder: any Encoder) throws {}
}

/// Writes a `RawClaims` payload as its bytes, base64url-encoded, instead of encoding it.
private struct RawClaimsSerializer: JWTSerializer {
    var jsonEncoder: any JWTJSONEncoder = .defaultForJWT

    func serialize(_ payload: some JWTPayload, header: JWTHeader) throws -> Data {
        let bytes = (payload as? RawClaims)?.bytes ?? []
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return Data(base64.utf8)
    }
}
