/// CPU and memory of every node a run talks to, measured over the run.
struct NodeUsageMeter: Sendable {
    private let processes: [NodeProcess]
    private let starts: [NodeProcess.Sample?]

    /// Finds the node processes behind `endpoints` (those on this machine) and samples them.
    init(endpoints: [BenchEndpoint]) {
        var seen: Set<Int> = []
        processes = endpoints.compactMap { endpoint in
            guard seen.insert(endpoint.port).inserted else { return nil }
            return NodeProcess.listening(on: endpoint.port)
        }
        starts = processes.map { $0.sample() }
    }

    func finish() -> [NodeProcess.Usage] {
        zip(processes, starts).compactMap { process, start in
            guard let start, let end = process.sample() else { return nil }
            return process.usage(from: start, to: end)
        }
    }
}
