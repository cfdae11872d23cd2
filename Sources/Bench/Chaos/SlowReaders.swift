import Auth
import NIOCore
import Synchronization
import SwitchboardWire

/// Connections on a poor link: each reads at most `chunk` bytes of its socket every
/// `interval` (no automatic reads), as a phone in a tunnel does, and gets pushes larger than
/// that pace drains. The node's bounded queue holds what they have not read, and closes one
/// as a slow consumer when it overflows; a cut one connects again a second later. What is
/// measured is that the others are not held up, and how the node treated these.
final class SlowReaders: Sendable {
    typealias Tally = SlowReadersTally

    let count: Int
    let interval: TimeAmount
    let chunk: Int
    private let tally = Mutex(Tally())

    init(count: Int, interval: TimeAmount = .seconds(1), chunk: Int = 256) {
        self.count = count
        self.interval = interval
        self.chunk = chunk
    }

    static func user(_ index: Int) -> String { "chaos-slow-\(index)" }

    var snapshot: Tally { tally.withLock { $0 } }

    func pushed(delivered: Bool) {
        tally.withLock { delivered ? ($0.sent += 1) : ($0.notDelivered += 1) }
    }

    /// Keeps `count` slow connections open over `endpoints` until cancelled.
    func run(endpoints: [BenchEndpoint], authenticator: TokenAuthenticator, validFor: Int64) async {
        await withDiscardingTaskGroup { group in
            for index in 0..<count {
                group.addTask { [self] in
                    guard let token = try? await authenticator.issue(user: Self.user(index), validFor: .seconds(validFor)) else { return }
                    var attempt = 0
                    while !Task.isCancelled {
                        let endpoint = endpoints[(index + attempt) % endpoints.count]
                        attempt += 1
                        await hold(endpoint: endpoint, token: token)
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
                // Paced, as the other clients' start.
                if index % 50 == 49 { try? await Task.sleep(for: .milliseconds(100)) }
            }
        }
    }

    /// One connection, read slowly until it closes or the task is cancelled.
    private func hold(endpoint: BenchEndpoint, token: String) async {
        let socket: BenchSocket
        do {
            socket = try await BenchSocket.connect(to: endpoint, token: token, format: .json) { [self] event in
                switch event {
                case .text, .binary: self.tally.withLock { $0.read += 1 }
                case .closed(let code):
                    self.tally.withLock { code == CloseCode.slowConsumer.rawValue ? ($0.cutAsSlow += 1) : ($0.closedOtherwise += 1) }
                }
            }
        } catch {
            return
        }
        tally.withLock { $0.connections += 1 }
        let channel = socket.channel
        let (interval, chunk) = (interval, chunk)
        let reads = channel.eventLoop.submit {
            try channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: chunk))
            return channel.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in channel.read() }
        }
        await withTaskCancellationHandler {
            try? await socket.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        try? await reads.get().cancel()
        tally.withLock { $0.connections -= 1 }
    }
}
