/// A static file the node serves: the demo app, the dashboard and the JavaScript client,
/// compiled into the binary (SwiftPM's `embedInCode`), so a node needs no files beside it.
package struct WebAsset: Sendable {
    package let bytes: [UInt8]
    package let contentType: String
    /// The `ETag` of these bytes (FNV-1a 64 of the content): the same binary answers the
    /// same tag, a new build a new one.
    package let etag: String

    init(bytes: [UInt8], contentType: String) {
        self.bytes = bytes
        self.contentType = contentType
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        etag = "\"\(String(hash, radix: 16))\""
    }

    /// Headers that fence a page: scripts and styles only from the node itself (no inline
    /// code, so injected markup cannot run), connections to any node (the dashboard and the
    /// demo reach every node of `?nodes=`), never framed, no Referer leaving the page.
    package var securityHeaders: [(String, String)] {
        guard contentType == Self.html else { return [] }
        return [
            (
                "content-security-policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                    + "connect-src 'self' ws: wss: http: https:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
            ),
            ("referrer-policy", "no-referrer"),
            ("x-frame-options", "DENY"),
        ]
    }

    /// The file under `/assets/<name>`, or nil.
    package static func named(_ name: String) -> WebAsset? {
        switch name {
        case "switchboard.js": client
        case "demo.js": demoScript
        case "dashboard.js": dashboardScript
        case "app.css": styles
        default: nil
        }
    }

    // Made once (their ETags hash the bytes), not per request.
    private static let client = WebAsset(bytes: PackageResources.switchboard_js, contentType: javaScript)
    private static let demoScript = WebAsset(bytes: PackageResources.demo_js, contentType: javaScript)
    private static let dashboardScript = WebAsset(bytes: PackageResources.dashboard_js, contentType: javaScript)
    private static let styles = WebAsset(bytes: PackageResources.app_css, contentType: "text/css; charset=utf-8")

    /// The demo app's page (served only by a `--dev` node).
    package static let demoPage = WebAsset(bytes: PackageResources.demo_html, contentType: html)
    /// The cluster dashboard's page.
    package static let dashboardPage = WebAsset(bytes: PackageResources.dashboard_html, contentType: html)

    private static let javaScript = "text/javascript; charset=utf-8"
    private static let html = "text/html; charset=utf-8"
}
