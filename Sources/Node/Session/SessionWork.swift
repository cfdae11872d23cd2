import DequeModule
import NIOCore
import Synchronization
import SwitchboardProtocol

/// The session's work, in order: a task runs only while there is some.
final class SessionWork: Sendable {
    enum Job: Sendable {
        case open
        case frame(DecodedFrame)
        /// A backend subscribed the connection to a topic, or ended that.
        case serverTopic(String, subscribe: Bool)
        case close
    }

    private struct State {
        var jobs = Deque<Job>()
        var running = false
        var paused = false
    }

    /// Past this many unhandled messages the socket stops being read.
    static let highWater = 256
    static let lowWater = 32

    private let session: ClientSession
    private let state = Mutex(State())
    private let calls = CallTasks()

    init(session: ClientSession) {
        self.session = session
    }

    /// Nothing queued and no task running: a frame may be handled right away without
    /// overtaking anything.
    var isIdle: Bool {
        state.withLock { !$0.running && $0.jobs.isEmpty }
    }

    /// Queues a job and starts the task if none runs; true when reading should pause.
    @discardableResult
    func push(_ job: Job, channel: any Channel) -> Bool {
        let (start, pause) = state.withLock { state -> (Bool, Bool) in
            state.jobs.append(job)
            let start = !state.running
            state.running = true
            let pause = !state.paused && state.jobs.count > Self.highWater
            if pause { state.paused = true }
            return (start, pause)
        }
        if start {
            Task { await self.work(channel: channel) }
        }
        return pause
    }

    /// A backend call met with nothing queued before it: checked here on the connection's
    /// loop and started as its own task, without a pass through the session's task. False
    /// when `frame` is not a call.
    func startCallNow(_ frame: DecodedFrame) -> Bool {
        guard case .other(let request, let binary) = frame, case .call(let route)? = request.body else { return false }
        let answers = session.connection.answers
        if let call = session.prepareCall(route, frame: request, binary: binary) {
            calls.start {
                await call()
                answers.end()
            }
        } else {
            answers.end()
        }
        return true
    }

    private func work(channel: any Channel) async {
        while true {
            let (next, resume) = state.withLock { state -> (Job?, Bool) in
                guard let job = state.jobs.popFirst() else {
                    state.running = false
                    return (nil, false)
                }
                let resume = state.paused && state.jobs.count < Self.lowWater
                if resume { state.paused = false }
                return (job, resume)
            }
            if resume { channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in } }
            guard let next else { return }
            switch next {
            case .open:
                if await !session.open() {
                    session.connection.markClosing(.shutdown)
                    session.connection.queue.finish(.shutdown)
                }
            case .frame(let frame):
                let answers = session.connection.answers
                if let call = await session.handle(frame) {
                    calls.start {
                        await call()
                        answers.end()
                    }
                } else {
                    answers.end()
                }
            case .serverTopic(let topic, let subscribe):
                await session.serverTopic(topic, subscribe: subscribe)
            case .close:
                calls.cancelAll()
                await session.close()
            }
        }
    }
}
