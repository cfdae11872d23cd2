import Identity
import NIOCore
import SwitchboardProtocol
import Routing

extension ConnectionRegistry: LocalDelivery {
    /// Encodes the push at most once per wire format, however many connections get it.
    /// Connections on another event loop are woken by one task per loop, not one each
    /// (a topic's or a broadcast's thousands, measured in docs/benchmarks.md § Topics).
    func deliver(_ push: PushPayload, to audience: PushAudience) -> Int {
        let targets = connections(in: audience)
        guard !targets.isEmpty else { return 0 }
        var json: EncodedFrame?
        var protobuf: EncodedFrame?
        var delivered = 0
        var later: [ObjectIdentifier: (loop: any EventLoop, connections: [ClientConnection])] = [:]
        defer {
            for (loop, connections) in later.values {
                loop.execute { for connection in connections { connection.wakePump() } }
            }
        }
        for connection in targets {
            let frame: EncodedFrame
            switch connection.format {
            case .json:
                frame = json ?? FrameCodec.encode(push: push, as: .json)
                json = frame
            case .protobuf:
                frame = protobuf ?? FrameCodec.encode(push: push, as: .protobuf)
                protobuf = frame
            }
            // Users' messages are shed by a half-full queue; backends' fill it to the end.
            let sheddable = push.isUserTraffic
            if let position = push.position, let topic = push.topic {
                if connection.enqueueTopic(frame, topic, at: position, sheddable: sheddable) { delivered += 1 }
            } else if let position = push.position {
                if connection.enqueueDurable(frame, at: position, sheddable: sheddable) { delivered += 1 }
            } else if targets.count == 1 || connection.eventLoop.inEventLoop {
                if connection.enqueueLive(frame, sheddable: sheddable) { delivered += 1 }
            } else {
                let (queued, wake) = connection.enqueueLiveWithoutWaking(frame, sheddable: sheddable)
                if queued { delivered += 1 }
                if wake {
                    let loop = connection.eventLoop
                    later[ObjectIdentifier(loop), default: (loop, [])].connections.append(connection)
                }
            }
        }
        return delivered
    }

    /// Each connection changes its subscription in turn with its other work (its session).
    func change(_ audience: PushAudience, topic: String, subscribe: Bool) -> Int {
        let targets = connections(in: audience)
        for connection in targets { connection.serverSubscription(topic, subscribe: subscribe) }
        return targets.count
    }

    func disconnect(_ audience: PushAudience, reason: String) -> Int {
        let targets = connections(in: audience)
        for connection in targets {
            connection.queue.finish(.disconnect(reason: reason))
        }
        return targets.count
    }

    private func connections(in audience: PushAudience) -> [ClientConnection] {
        switch audience {
        case .user(let user): connections(of: user)
        case .connection(let id): connection(id).map { [$0] } ?? []
        case .everyone: all()
        case .topic(let topic, nil): subscribers(of: topic)
        case .topic(let topic, let except?): subscribers(of: topic).filter { $0.id != except }
        }
    }
}
