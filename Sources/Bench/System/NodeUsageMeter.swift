/// CPU and memory of every server process of a run — the nodes it talks to, and others
/// named by the port they listen on (Redis) — measured over the run.
struct NodeUsageMeter: Sendable {
    private let processes: [ListeningProcess]
    private let starts: [ListeningProcess.Sample?]

    private init(processes: [ListeningProcess]) {
        self.processes = processes
        starts = processes.map { $0.sample() }
    }

    /// Finds the processes behind `endpoints` and `otherPorts` (those on this machine) and
    /// samples them.
    static func start(endpoints: [BenchEndpoint], otherPorts: [Int] = []) async -> NodeUsageMeter {
        var processes: [ListeningProcess] = []
        for port in Set(endpoints.map(\.port)).sorted() + otherPorts {
            if let process = await ListeningProcess.listening(on: port) { processes.append(process) }
        }
        return NodeUsageMeter(processes: processes)
    }

    func finish() -> [ListeningProcess.Usage] {
        zip(processes, starts).compactMap { process, start in
            guard let start, let end = process.sample() else { return nil }
            return process.usage(from: start, to: end)
        }
    }
}
