/// When a run stops sending.
package enum BenchStop: Sendable, CustomStringConvertible, Codable {
    case messages(Int)
    case duration(seconds: Double)

    package var description: String {
        switch self {
        case .messages(let count): "\(count) messages"
        case .duration(let seconds): "\(String(format2: seconds)) s"
        }
    }
}
