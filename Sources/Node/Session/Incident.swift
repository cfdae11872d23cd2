/// Ids that tie what a client is told to the log line with the detail: a client never
/// sees internal addresses or error text, but can quote the id to an operator.
enum Incident {
    /// Eight hex digits, random: unique enough to find one log line.
    static func makeID() -> String {
        let value = UInt32.random(in: .min ... .max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
