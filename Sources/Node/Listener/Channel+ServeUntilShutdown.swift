import NIOCore
import ServiceLifecycle

extension Channel {
    /// Serves until a graceful shutdown or the task's cancellation closes this (server)
    /// channel. Cancellation must close it too: a service group cancels what outlasts its
    /// shutdown bound, and a wait that only a graceful shutdown ends would keep the node
    /// alive for ever.
    func serveUntilShutdown() async {
        await withTaskCancellationOrGracefulShutdownHandler {
            try? await closeFuture.get()
        } onCancelOrGracefulShutdown: {
            self.close(promise: nil)
        }
    }
}
