import Foundation
import NIOHTTP1

/// What the node reads from a client's HTTP request: its path and its token.
struct ClientRequest {
    let path: String
    let query: String?
    let headers: HTTPHeaders

    init(_ head: HTTPRequestHead) {
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts.first ?? "")
        query = parts.count > 1 ? String(parts[1]) : nil
        headers = head.headers
    }

    /// Whether a body follows the head: none of the client port's endpoints takes one.
    var hasBody: Bool {
        if headers.contains(name: "transfer-encoding") { return true }
        return headers["content-length"].contains { Int($0.trimmingCharacters(in: .whitespaces)) != 0 }
    }

    /// From `Authorization: Bearer`, or, for browsers that cannot set headers, `?token=`.
    var token: String? {
        if let header = headers.first(name: "authorization") {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
        }
        return parameter("token")
    }

    /// Whether a browser's `Origin` may open a socket here: no Origin (not a browser), a
    /// page of the node's own host (any port: the demo and dashboard, and WebSocket client
    /// libraries that send the URL's host as the origin), one of `allowed`, or `*`.
    func originAllowed(_ allowed: [String]) -> Bool {
        guard let origin = headers.first(name: "origin")?.lowercased() else { return true }
        if allowed.contains("*") || allowed.contains(where: { $0.lowercased() == origin }) { return true }
        guard let host = headers.first(name: "host").flatMap({ Self.hostName(of: Substring($0)) }),
              let scheme = origin.range(of: "://"), Self.hostName(of: origin[scheme.upperBound...]) == host
        else { return false }
        return true
    }

    /// `host` of `host[:port]` (or `[v6]:port`), lower-cased.
    private static func hostName(of authority: Substring) -> String? {
        let text = authority.lowercased()
        guard !text.isEmpty else { return nil }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") { return String(text[...close]) }
        return String(text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0])
    }

    /// The query parameter `name`, percent-decoded (`+` is a space).
    func parameter(_ name: String) -> String? {
        for pair in (query ?? "").split(separator: "&") {
            let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if keyValue.count == 2, keyValue[0] == name {
                let raw = keyValue[1].replacingOccurrences(of: "+", with: " ")
                return raw.removingPercentEncoding ?? raw
            }
        }
        return nil
    }
}
