import RedisClient
import ServiceLifecycle

/// Owns the node's Redis command connections: first in the node's services, so it stops
/// last and closes them once presence, the lease and relay are done with them.
struct RedisConnectionService: Service {
    let connection: RedisConnectionGroup

    func run() async throws {
        try? await gracefulShutdown()
        connection.close()
    }
}
