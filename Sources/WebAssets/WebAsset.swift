/// A static file the node serves: the demo app, the dashboard and the JavaScript client,
/// compiled into the binary (SwiftPM's `embedInCode`), so a node needs no files beside it.
package struct WebAsset: Sendable {
    package let bytes: [UInt8]
    package let contentType: String

    /// The file under `/assets/<name>`, or nil.
    package static func named(_ name: String) -> WebAsset? {
        switch name {
        case "switchboard.js": WebAsset(bytes: PackageResources.switchboard_js, contentType: javaScript)
        case "demo.js": WebAsset(bytes: PackageResources.demo_js, contentType: javaScript)
        case "dashboard.js": WebAsset(bytes: PackageResources.dashboard_js, contentType: javaScript)
        case "app.css": WebAsset(bytes: PackageResources.app_css, contentType: "text/css; charset=utf-8")
        default: nil
        }
    }

    /// The demo app's page (served only by a `--dev` node).
    package static let demoPage = WebAsset(bytes: PackageResources.demo_html, contentType: html)
    /// The cluster dashboard's page.
    package static let dashboardPage = WebAsset(bytes: PackageResources.dashboard_html, contentType: html)

    private static let javaScript = "text/javascript; charset=utf-8"
    private static let html = "text/html; charset=utf-8"
}
