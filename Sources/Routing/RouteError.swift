/// Why a call's arguments could not become the route's request message.
public struct RouteError: Error, CustomStringConvertible {
    /// The offending top-level field, when it could be told.
    public let field: String?
    public let detail: String

    public var description: String {
        if let field { "field '\(field)': \(detail)" } else { detail }
    }
}
