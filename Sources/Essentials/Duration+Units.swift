extension Duration {
    /// Whole milliseconds, rounded down: what Redis TTLs and wire timestamps take.
    package var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
    /// Whole nanoseconds, rounded down.
    package var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
    /// Seconds as a floating-point number, for reports and `Date` arithmetic.
    package var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
