import SwitchboardClient

/// Compares the cluster's presence with what the clients know of themselves: a client that
/// is open should have exactly one connection in presence, any other none. A *ghost* is a
/// user with more connections than that (a dead socket still listed), *missing* one with
/// fewer. Sweeps every user through the Gateway API until one sweep finds nothing wrong, or
/// `limit` has passed and at least `minimumSweeps` were made (a sweep of many users on a
/// busy machine can itself take most of the limit).
struct PresenceAudit: Sendable {
    let clients: [SwitchboardClient]
    let gateway: GatewayClients
    let gateways: Int
    var limit: Duration = .seconds(90)
    var minimumSweeps = 3
    /// Presence reads in flight at once.
    var concurrency = 64

    struct Sweep: Sendable {
        var ghosts = 0
        var missing = 0
        /// Reads that failed (a node down, a deadline).
        var unanswered = 0
        var isClean: Bool { ghosts == 0 && missing == 0 && unanswered == 0 }
    }

    /// The first sweep's findings, and when the first sweep that found nothing wrong began,
    /// in seconds after the audit's start (0: the first; nil: none within `limit`).
    func run() async -> (first: Sweep, cleanAfter: Double?, sweeps: Int) {
        let start = ContinuousClock.now
        var first: Sweep?
        var sweeps = 0
        while true {
            let began = ContinuousClock.now - start
            let sweep = await self.sweep()
            sweeps += 1
            if first == nil { first = sweep }
            if sweep.isClean { return (first!, Double(began.components.seconds) + Double(began.components.attoseconds) / 1e18, sweeps) }
            if ContinuousClock.now - start > limit, sweeps >= minimumSweeps { return (first!, nil, sweeps) }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private enum Finding: Sendable { case right, ghost, missing, unanswered }

    private func sweep() async -> Sweep {
        await withTaskGroup(of: Finding.self) { group in
            var sweep = Sweep()
            func book(_ finding: Finding?) {
                switch finding {
                case .ghost: sweep.ghosts += 1
                case .missing: sweep.missing += 1
                case .unanswered: sweep.unanswered += 1
                case .right, nil: break
                }
            }
            for (index, client) in clients.enumerated() {
                if index >= concurrency { book(await group.next()) }
                group.addTask {
                    let before = client.state
                    guard let listed = try? await gateway.presence(via: index % gateways, of: ChaosBenchmark.user(index)).count else {
                        return .unanswered
                    }
                    // A client whose state changed meanwhile is read again in the next sweep.
                    guard client.state == before else { return .unanswered }
                    let expected = before == .open ? 1 : 0
                    return listed > expected ? .ghost : listed < expected ? .missing : .right
                }
            }
            for await finding in group { book(finding) }
            return sweep
        }
    }
}
