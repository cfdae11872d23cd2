import Testing

/// Tags that pick parts of the suite: `swift test --skip-tags` is not a thing, so filter
/// with `swift test --filter` on target names (see the README's "Tests").
extension Tag {
    /// Talks to a real `redis-server` (the shared one, or one of its own).
    @Tag package static var redis: Self
    /// Starts the `switchboard` executable or another process.
    @Tag package static var process: Self
    /// Takes more than a few seconds (hundreds of clients, a drain window).
    @Tag package static var slow: Self
}
