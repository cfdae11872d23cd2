/// Polls `condition` until it holds, failing after `timeout`.
///
/// The timeout only decides when to give up: integration tests assert outcomes, never
/// how long they took (timing is proven on virtual time, see `ManualClock`). The default
/// is one a saturated machine cannot reach for what should hold (20 s was: nodes of a
/// new Redis Cluster getting ready with both cores busy and the suite running).
package func waitUntil(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("condition not met within \(timeout)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// The deadline integration tests give the product's own calls and pushes (backend routes,
/// backend pushes): generous, as two cores shared by dozens of nodes can stall anything
/// for seconds. Timeouts themselves are tested with short deadlines of their own.
package let testDeadline = Duration.seconds(30)

/// Polls `attempt` until it returns a value, which is returned; fails after `timeout`.
package func eventually<Value>(timeout: Duration = .seconds(60), _ attempt: () async throws -> Value?) async throws -> Value {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while true {
        if let value = try await attempt() { return value }
        guard ContinuousClock.now < deadline else { throw TestFailure("no result within \(timeout)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}
