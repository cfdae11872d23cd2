import Synchronization

/// A connection's backend calls in flight, cancelled when it goes.
final class CallTasks: Sendable {
    private let tasks = Mutex<(next: Int, running: [Int: Task<Void, Never>], cancelled: Bool)>((0, [:], false))

    func start(_ call: @escaping @Sendable () async -> Void) {
        let key = tasks.withLock { state -> Int? in
            guard !state.cancelled else { return nil }
            state.next += 1
            return state.next
        }
        guard let key else { return }
        let task = Task {
            await call()
            self.finished(key)
        }
        tasks.withLock { state in
            if state.cancelled { task.cancel() } else { state.running[key] = task }
        }
    }

    private func finished(_ key: Int) {
        tasks.withLock { _ = $0.running.removeValue(forKey: key) }
    }

    func cancelAll() {
        let running = tasks.withLock { state -> [Task<Void, Never>] in
            state.cancelled = true
            defer { state.running = [:] }
            return Array(state.running.values)
        }
        running.forEach { $0.cancel() }
    }
}
