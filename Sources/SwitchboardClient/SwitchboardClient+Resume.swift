import SwiftProtobuf
import SwitchboardWire
import Synchronization

/// Resume: every connect names the last inbox position seen, durable pushes are passed on
/// in inbox order with none twice, and a jump in offsets is filled with `switchboard.inbox`.
extension SwitchboardClient {
    /// The last inbox position seen. Save it to resume in a later run
    /// (`SwitchboardClientConfiguration.position`).
    public var position: InboxPosition? { core.withLock { $0.position } }

    /// `url` with `since` and `epoch` when there is a position to resume after.
    func resumeURL(_ url: String) -> String {
        guard let position = core.withLock({ $0.position }) else { return url }
        // Nodes make epochs of letters and digits; anything else is percent-encoded.
        let epoch = position.epoch.utf8.map { byte -> String in
            let scalar = Unicode.Scalar(byte)
            return byte < 0x80 && (scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)))
                ? String(Character(scalar)) : "%" + String(byte, radix: 16, uppercase: true).leftPadded
        }.joined()
        return "\(url)\(url.contains("?") ? "&" : "?")since=\(position.offset)&epoch=\(epoch)"
    }

    /// A push from the socket, in arrival order. Pushes are passed on under the lock so
    /// that a gap fill finishing meanwhile cannot reorder them.
    func received(_ push: Push) {
        if let topic = push.topic {
            // A kept topic's publish at or before the last one seen is a second copy.
            core.withLock { core in
                if let position = push.position {
                    if let last = core.topicPositions[topic], last.epoch == position.epoch, position.offset <= last.offset { return }
                    core.topicPositions[topic] = position
                }
                deliver(push)
            }
            return
        }
        guard let position = push.position else {
            deliver(push)
            return
        }
        let gap: (after: InboxPosition, number: UInt64)? = core.withLock { core in
            if core.gap != nil {
                core.gap?.append(push)
                return nil
            }
            if let last = core.position, !last.epoch.isEmpty {
                if last.epoch == position.epoch, position.offset <= last.offset { return nil }  // a duplicate
                // A new epoch (the inbox began again: it expired, or Redis lost it) starts
                // at offset 1: a first push past that means earlier ones went by unseen —
                // e.g. stored while this node's subscription was being restored, and passed
                // over by its catch-up because a later one had already gone out live.
                let before = last.epoch == position.epoch ? last : InboxPosition(epoch: position.epoch, offset: 0)
                if position.offset > before.offset + 1 {
                    core.gap = [push]
                    core.gapNumber += 1
                    return (before, core.gapNumber)
                }
            }
            core.position = position
            deliver(push)
            return nil
        }
        if let gap {
            Task { await fillGap(after: gap.after, before: position, number: gap.number) }
        }
    }

    /// Fetches the pushes between `after` and `before`, passes them on, then what was held.
    private func fillGap(after: InboxPosition, before: InboxPosition, number: UInt64) async {
        var missing: [Push] = []
        var from = after.offset
        var resync: String?
        do {
            while true {
                var frame = Switchboard_V1_ClientFrame()
                frame.call = GatewayCall.inbox.rawValue
                frame.data = .init(structValue: .init(fields: [
                    "after": .init(numberValue: Double(from)), "epoch": .init(stringValue: after.epoch),
                    "until": .init(numberValue: Double(before.offset)),
                ]))
                let answer = try await exchange(frame, timeout: nil).ok.structValue.fields
                guard answer["recovered"]?.boolValue == true else {
                    resync = "a gap in the inbox could not be filled; fetch current state from the backends"
                    break
                }
                let page = (answer["pushes"]?.listValue.values ?? []).map { Push(value: $0) }
                missing += page
                guard answer["more"]?.boolValue == true, let last = page.last?.position else { break }
                from = last.offset
            }
        } catch let error as SwitchboardClientError where error.code == "disconnected" || error.code == "closed" {
            // The resume after the reconnect replays from the last position passed on.
            core.withLock { core in
                if core.gapNumber == number { core.gap = nil }
            }
            return
        } catch {
            resync = "a gap in the inbox could not be filled: \(error)"
        }
        core.withLock { core in
            guard core.gapNumber == number, let held = core.gap else { return }
            core.gap = nil
            for push in missing + held {
                guard let position = push.position else { continue }
                if let last = core.position, last.epoch == position.epoch, position.offset <= last.offset { continue }
                core.position = position
                deliver(push)
            }
        }
        if let resync { resyncSink.yield(resync) }
    }
}

extension String {
    /// Two hex digits.
    fileprivate var leftPadded: String { count < 2 ? "0" + self : self }
}
