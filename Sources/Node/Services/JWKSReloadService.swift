#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOPosix
import ServiceLifecycle

/// Re-reads the JWKS file when it changes (keys rotated by the identity provider), on NIO's
/// blocking-I/O thread pool; a file that does not load keeps the last good key set.
struct JWKSReloadService: Service {
    let node: GatewayNode

    func run() async throws {
        let configuration = node.configuration
        guard let path = configuration.jwksFile else { return }
        let modified = { @Sendable in (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date }
        var stamp = try? await NIOThreadPool.singleton.runIfActive(modified)
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: configuration.jwksReloadInterval) }
            } catch {
                return
            }
            let now = try? await NIOThreadPool.singleton.runIfActive(modified)
            guard let now, now != stamp else { continue }
            do {
                let text = try await NIOThreadPool.singleton.runIfActive { try GatewayNode.readJWKS(configuration) }
                node.replaceAuthenticator(try await GatewayNode.authenticator(configuration, jwks: text))
                stamp = now
                node.logger.info("JWKS reloaded", metadata: ["jwks-file": "\(path)"])
            } catch {
                node.logger.warning("the JWKS file changed but does not load; keeping the last good key set", metadata: ["error": "\(error)"])
            }
        }
    }
}
