package import RedisClient
import ServiceLifecycle

/// Owns the node's Redis command connections: first in the node's services, so it stops
/// last and closes them once presence, the lease and relay are done with them.
package struct RedisConnectionService: Service {
    let connection: RedisConnectionGroup

    package init(connection: RedisConnectionGroup) {
        self.connection = connection
    }

    package func run() async throws {
        try? await gracefulShutdown()
        connection.close()
    }
}
