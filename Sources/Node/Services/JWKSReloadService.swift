#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOPosix
import ServiceLifecycle

/// Re-reads the JWKS file when it changes (keys rotated by the identity provider), on NIO's
/// blocking-I/O thread pool, or fetches the JWKS URL again every refresh interval; a file
/// or fetch that does not load keeps the last good key set.
struct JWKSReloadService: Service {
    /// The JWKS file or URL, the refresh interval and the token policy.
    let configuration: NodeConfiguration
    /// Swapped for a checker of the new key set.
    let authentication: CurrentAuthenticator
    let logger: Logger

    func run() async throws {
        if let url = configuration.jwksURL { return await refresh(from: url) }
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
                authentication.replace(with: try await GatewayNode.authenticator(configuration, jwks: text))
                stamp = now
                logger.info("JWKS reloaded", metadata: ["jwks-file": "\(path)"])
            } catch {
                logger.warning("the JWKS file changed but does not load; keeping the last good key set", metadata: ["error": "\(error)"])
            }
        }
    }

    private func refresh(from url: String) async {
        var last: String?
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: configuration.jwksRefreshInterval) }
            } catch {
                return
            }
            do {
                let text = try await GatewayNode.fetchJWKS(url)
                guard text != last else { continue }
                authentication.replace(with: try await GatewayNode.authenticator(configuration, jwks: text))
                if last != nil { logger.info("JWKS reloaded", metadata: ["jwks-url": "\(url)"]) }
                last = text
            } catch {
                logger.warning("the JWKS URL did not give a key set; keeping the last good one", metadata: ["jwks-url": "\(url)", "error": "\(error)"])
            }
        }
    }
}
