import Routing
import SwiftProtobuf
import SwitchboardProtocol

extension ConnectionRegistry: LocalDelivery {
    /// Encodes the push at most once per wire format, however many connections get it.
    func deliver(_ push: Switchboard_V1_Push, to audience: PushAudience) -> Int {
        let targets = connections(in: audience)
        guard !targets.isEmpty else { return 0 }
        var frame = Switchboard_V1_ServerFrame()
        frame.push = push
        // An empty Value has no JSON form: a push without data simply carries none.
        if push.data.kind == nil { frame.push.clearData() }
        var encoded: [WireFormat: EncodedFrame] = [:]
        var delivered = 0
        for connection in targets {
            let bytes = encoded[connection.format] ?? {
                let bytes = FrameCodec.encode(frame, as: connection.format)
                encoded[connection.format] = bytes
                return bytes
            }()
            if connection.enqueue(bytes) { delivered += 1 }
        }
        return delivered
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
        }
    }
}
