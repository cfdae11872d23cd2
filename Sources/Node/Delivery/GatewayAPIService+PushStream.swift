import GRPCCore
import Presence
import Routing
import SwitchboardProtocol

/// `PushStream`: many pushes over one HTTP/2 stream, each answered by its own outcome.
extension GatewayAPIService {
    /// Pushes in flight on one stream at most; past it the stream is read no further until
    /// some complete.
    static let streamWindow = 1024

    func pushStream(
        request: RPCAsyncSequence<Switchboard_Gateway_V1_PushStreamItem, any Error>,
        response: RPCWriter<Switchboard_Gateway_V1_PushStreamOutcome>,
        context: ServerContext
    ) async throws {
        let window = PushStreamWindow(window: Self.streamWindow)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    while let outcomes = await window.next() { try await response.write(contentsOf: outcomes) }
                } catch {
                    // The stream is gone: the reader must not wait for slots nobody frees.
                    window.fail()
                    throw error
                }
            }
            do {
                for try await item in request {
                    guard await window.reserve() else { break }
                    push(item) { window.complete($0) }
                }
            } catch {
                window.finish()
                throw error
            }
            window.finish()
            try await group.waitForAll()
        }
    }

    /// Starts one item's push; `answer` gets its outcome (or its error) exactly once.
    private func push(_ item: Switchboard_Gateway_V1_PushStreamItem, answer: @escaping @Sendable (Switchboard_Gateway_V1_PushStreamOutcome) -> Void) {
        var outcome = Switchboard_Gateway_V1_PushStreamOutcome()
        outcome.id = item.id
        let request: PushRequest
        do throws(RPCError) {
            switch item.target {
            case .user(let user):
                request = try PushRequest(item.push, toUser: user, durable: item.hasDurable ? item.durable : nil)
            case .connection(let connection):
                request = try PushRequest(item.push, toConnection: connection)
            case .everyone(true):
                request = try PushRequest(item.push, to: .everyone)
            case .topic(let topic):
                request = try PushRequest(item.push, toTopic: topic, namespaces: topics)
            case .everyone(false), nil:
                throw RPCError(code: .invalidArgument, message: "the item names no target: set user, connection, everyone or topic")
            }
        } catch {
            outcome.error = .init(error)
            return answer(outcome)
        }
        let id = item.id
        send(request) { result in
            var outcome = Switchboard_Gateway_V1_PushStreamOutcome()
            outcome.id = id
            switch result {
            case .success(let pushed): outcome.outcome = pushed
            case .failure(let error): outcome.error = .init(error)
            }
            answer(outcome)
        }
    }
}

extension Switchboard_Gateway_V1_PushStreamError {
    init(_ error: RPCError) {
        self.init()
        code = Int32(error.code.rawValue)
        message = error.message
    }
}
