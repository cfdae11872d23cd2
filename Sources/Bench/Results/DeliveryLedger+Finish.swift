extension DeliveryLedger {
    /// How every delivery scenario ends: wait (up to `timeout`) for what is still in
    /// flight, stop the progress line and the node meter, close the clients.
    /// Returns the run's seconds, from `start` to the last delivery, and the nodes' usage.
    func finish(
        startedAt start: Int64, timeout: Duration, line: ProgressLine, meter: NodeUsageMeter, fleet: ClientFleet
    ) async -> (seconds: Double, usage: [ListeningProcess.Usage]) {
        let end = await drain(timeout: timeout)
        line.finish()
        let usage = meter.finish()
        closeAll()
        await fleet.closeAll()
        return (Double(end - start) / 1e9, usage)
    }
}
