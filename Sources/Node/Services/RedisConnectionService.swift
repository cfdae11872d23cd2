import RedisClient
import ServiceLifecycle

/// Owns the node's Redis command connection: first in the node's services, so it stops
/// last and closes the connection once presence, the lease and relay are done with it.
struct RedisConnectionService: Service {
    let connection: RedisConnection

    func run() async throws {
        try? await gracefulShutdown()
        connection.close()
    }
}
