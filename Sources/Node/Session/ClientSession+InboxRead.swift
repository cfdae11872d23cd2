import CoreMetrics
import Routing
import SwiftProtobuf
import SwitchboardProtocol

/// `switchboard.inbox`: the client's own durable pushes after a position — how a client
/// that saw an offset jump (a relay message lost in a Redis blip) fills the gap.
extension ClientSession {
    static let inboxCall = GatewayCall.inbox.rawValue
    /// Pushes one answer carries at most, and about how many bytes of them (at least one
    /// push): `more` says when there are others. What one read costs Redis is bounded too.
    static let inboxPage = 100
    static let inboxPageBytes = 256 * 1024

    /// `{"after": 17, "epoch": "…", "until": 25}` (until exclusive and optional) →
    /// `{"epoch", "latest", "recovered", "more", "pushes": [{from, kind, data, origin, position}]}`.
    func prepareInboxRead(id: String, arguments: Google_Protobuf_Value) -> (@Sendable () async -> Void)? {
        let fields = arguments.structValue.fields
        guard let after = fields["after"].flatMap({ Self.offset($0) }) else {
            reply(to: id, error: .invalidArgument, "\(Self.inboxCall): after must be an inbox offset (a whole number)")
            return nil
        }
        let until = fields["until"].flatMap { Self.offset($0) }
        if fields["until"] != nil && until == nil {
            reply(to: id, error: .invalidArgument, "\(Self.inboxCall): until must be an inbox offset (a whole number)")
            return nil
        }
        let epoch = fields["epoch"]?.stringValue ?? ""
        let session = self
        return {
            do {
                let read = try await session.services.bus.readInbox(
                    of: session.connection.user, after: after, until: until, limit: Self.inboxPage, maxBytes: Self.inboxPageBytes, beginning: false
                )
                let recovered = read.recovers(after: InboxPosition(epoch: epoch, offset: after))
                let pushes = recovered ? read.pushes : []
                // More when the page stopped before the range's end (by count or by bytes).
                let end = min(read.latest, until.map { $0 > 0 ? $0 - 1 : 0 } ?? .max)
                let more = recovered && (pushes.last?.position?.offset ?? after) < end
                session.reply(to: id, ok: .init(structValue: [
                    "epoch": .init(stringValue: read.epoch ?? ""),
                    "latest": .init(numberValue: Double(read.latest)),
                    "recovered": .init(boolValue: recovered),
                    "more": .init(boolValue: more),
                    "pushes": .init(listValue: .init(values: pushes.map(\.protobufValue))),
                ]))
            } catch {
                session.services.metrics.inboxErrors.increment()
                session.reply(to: id, .unavailable, "the inbox is unavailable; retry", incident: error)
            }
        }
    }

    private static func offset(_ value: Google_Protobuf_Value) -> UInt64? {
        guard case .numberValue(let number) = value.kind, number >= 0, number == number.rounded(), number < 9_007_199_254_740_992 else {
            return nil
        }
        return UInt64(number)
    }
}
