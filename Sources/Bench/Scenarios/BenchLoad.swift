/// How hard a run pushes: as fast as the system answers with a bounded number in flight
/// (closed loop, which finds the peak) or at a fixed offered rate whatever the answers
/// (open loop, which gives honest latency at a chosen fraction of the peak).
package enum BenchLoad: Sendable, CustomStringConvertible, Codable {
    case closedLoop(window: Int)
    case openLoop(messagesPerSecond: Double)

    package var description: String {
        switch self {
        case .closedLoop(let window): "closed loop, \(window) in flight per source"
        case .openLoop(let rate): "open loop at \(Int(rate)) msg/s"
        }
    }
}
