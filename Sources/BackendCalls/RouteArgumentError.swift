/// Why a call's arguments could not become the route's request message.
package struct RouteArgumentError: Error, CustomStringConvertible {
    /// The offending top-level field, when it could be told.
    package let field: String?
    package let detail: String

    package var description: String {
        if let field { "field '\(field)': \(detail)" } else { detail }
    }
}
