import TestSupport

extension RunningNode {
    /// The value of one sample of `/metrics`: the line of `name` whose labels include
    /// `labels` (0 when there is none).
    package func metricValue(_ name: String, labels: [String: String] = [:]) async throws -> Double {
        let body = try await HTTPProbe.get(port: adminPort ?? port, path: "/metrics").body  // where the node serves it
        for line in body.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            guard labels.allSatisfy({ line.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
            return Double(line.split(separator: " ").last ?? "") ?? 0
        }
        return 0
    }
}
