package import Testing

/// What a suite needs, for reading and for IDEs that filter by tag. SwiftPM 6.3's
/// `swift test` filters by name only: `swift test --skip IntegrationTests` runs the unit
/// targets in seconds (see docs/testing.md).
extension Tag {
    /// Talks to a real `redis-server` (the shared one, or one of its own).
    @Tag package static var redis: Self
    /// Starts the `switchboard` executable or another process.
    @Tag package static var process: Self
    /// Takes more than a few seconds (hundreds of clients, a drain window).
    @Tag package static var slow: Self
}
