import Logging
import NIOCore
import Routing
import ServiceLifecycle

/// At shutdown the node stops taking clients (and `/readyz` says so), then closes the open connections a batch at a time over three quarters of
/// the drain window, with 1012 after their queued frames, so that they reconnect to
/// other nodes spread out instead of all at once; it waits for them to go until the
/// window is nearly over. Presence goes with each connection, and the lease service
/// clears whatever is left.
///
/// Its pacing runs on `clock`: tests drive it on virtual time.
struct ConnectionDrainService<C: Clock>: Service where C.Duration == Duration {
    let registry: ConnectionRegistry
    /// The node's `drain-window`.
    let window: Duration
    let logger: Logger
    let clock: C
    /// Time between two batches of closes.
    static var step: Duration { .milliseconds(50) }
    /// How often the end of the drain checks whether everyone has gone.
    static var poll: Duration { .milliseconds(20) }

    init(registry: ConnectionRegistry, window: Duration, logger: Logger, clock: C) {
        self.registry = registry
        self.window = window
        self.logger = logger
        self.clock = clock
    }

    func run() async throws {
        try? await gracefulShutdown()
        await drain()
    }

    private func drain() async {
        let start = clock.now
        let connections = registry.startDraining()
        logger.info("draining", metadata: ["connections": "\(connections.count)", "window": "\(window)"])
        let steps = max(Int((window * 3 / 4) / Self.step), 1)
        let perStep = (connections.count + steps - 1) / steps
        var next = connections[...]
        var step = 0
        while !next.isEmpty {
            for connection in next.prefix(perStep) {
                connection.queue.finish(.shutdown)
            }
            next = next.dropFirst(perStep)
            step += 1
            if !next.isEmpty { try? await clock.sleep(until: start.advanced(by: Self.step * step), tolerance: nil) }
        }
        // The last 15% of the window is for the rest of shutdown (listeners, presence, lease).
        let deadline = start.advanced(by: window * 85 / 100)
        while registry.count > 0, clock.now < deadline {
            try? await clock.sleep(until: min(clock.now.advanced(by: Self.poll), deadline), tolerance: nil)
        }
        // Whoever is left has not taken its close (a client that stopped reading, say):
        // drop the socket so that the node can exit inside the window.
        let left = registry.all()
        if !left.isEmpty {
            logger.warning("drain window over; dropping sockets", metadata: ["connections": "\(left.count)"])
            for connection in left {
                connection.markClosing(.shutdown)
                connection.channel.close(promise: nil)
            }
        }
    }
}

extension ConnectionDrainService where C == ContinuousClock {
    init(registry: ConnectionRegistry, window: Duration, logger: Logger) {
        self.init(registry: registry, window: window, logger: logger, clock: ContinuousClock())
    }
}
