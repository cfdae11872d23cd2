/// When a run stops sending.
public enum BenchStop: Sendable, CustomStringConvertible, Codable {
    case messages(Int)
    case duration(seconds: Double)

    public var description: String {
        switch self {
        case .messages(let count): "\(count) messages"
        case .duration(let seconds): "\(String(format2: seconds)) s"
        }
    }
}
