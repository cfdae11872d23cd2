import Essentials
import Synchronization

/// The books of one run: what each source sent, what arrived where, and whether any of
/// it was lost, delivered twice or delivered to the wrong connection. Shared by every
/// event loop that receives.
final class DeliveryLedger: Sendable {
    private final class Slot: Sendable {
        struct Books {
            var sent = 0
            var delivered = 0
            var seen: [UInt64] = []
        }
        let books = Mutex(Books())
    }

    private let slots: [Slot]
    let latency = LatencyHistogram()
    private let totals = Totals()

    private final class Totals: Sendable {
        let sent = Atomic<Int>(0)
        let delivered = Atomic<Int>(0)
        let duplicated = Atomic<Int>(0)
        let misdelivered = Atomic<Int>(0)
        let unreadable = Atomic<Int>(0)
        let errors = Atomic<Int>(0)
        let firstError = Mutex<String?>(nil)
        let closedEarly = Atomic<Int>(0)
        let closing = Atomic<Bool>(false)
        let failedCalls = Atomic<Int>(0)
    }

    /// `slots` sources (senders; for broadcast, receivers) whose sequence numbers are tracked.
    init(slots: Int) {
        self.slots = (0..<slots).map { _ in Slot() }
    }

    /// Takes the next sequence number of `slot` if it has fewer than `window` in flight
    /// and fewer than `limit` sent; nil when it must wait.
    func reserve(slot: Int, window: Int = .max, limit: Int = .max) -> Int? {
        let sequence: Int? = slots[slot].books.withLock { books in
            guard books.sent < limit, books.sent - books.delivered < window else { return nil }
            books.sent += 1
            return books.sent - 1
        }
        if sequence != nil { totals.sent.add(1, ordering: .relaxed) }
        return sequence
    }

    /// Gives back a sequence number taken by `reserve` but never sent (it was due too late).
    func unreserve(slot: Int) {
        slots[slot].books.withLock { $0.sent -= 1 }
        totals.sent.subtract(1, ordering: .relaxed)
    }

    /// How a delivery is booked: by the message's source (a send or push: the target must
    /// be the receiver) or by the receiver (a broadcast: the target is -1, everyone).
    enum Keying { case bySource, byReceiver }

    /// From now on connections closing are the generator's doing, not the node's.
    func closeAll() { totals.closing.store(true, ordering: .relaxed) }

    /// Books what `client` received; returns the marker when it was a new delivery.
    @discardableResult
    func receive(_ event: BenchSocket.Event, by client: Int, keyedBy keying: Keying) -> DeliveryMarker? {
        if case .closed = event {
            if !totals.closing.load(ordering: .relaxed) { closedEarly() }
            return nil
        }
        guard let marker = DeliveryMarker(event) else {
            // A send's error answer is not a delivery at all: booked apart, with its text,
            // so that a run under load says what the node answered.
            if let error = ErrorAnswer(event) {
                answeredError(error.text)
            } else {
                unreadable()
            }
            return nil
        }
        let latency = MonotonicClock.nanoseconds() - marker.sentAt
        switch keying {
        case .bySource:
            guard marker.target == client else { misdelivered(); return nil }
            return deliver(slot: marker.source, sequence: marker.sequence, latencyNanoseconds: latency) ? marker : nil
        case .byReceiver:
            guard marker.target == -1 else { misdelivered(); return nil }
            return deliver(slot: client, sequence: marker.sequence, latencyNanoseconds: latency) ? marker : nil
        }
    }

    /// Counts `copies` deliveries as sent at once (a broadcast to every connection).
    func expect(_ copies: Int) {
        totals.sent.add(copies, ordering: .relaxed)
    }

    /// Books a delivery of sequence `sequence` in `slot`; false if it was already seen.
    @discardableResult
    func deliver(slot: Int, sequence: Int, latencyNanoseconds: Int64) -> Bool {
        guard slots.indices.contains(slot), sequence >= 0 else {
            totals.misdelivered.add(1, ordering: .relaxed)
            return false
        }
        let fresh = slots[slot].books.withLock { books in
            let word = sequence / 64, bit = UInt64(1) << UInt64(sequence % 64)
            if word >= books.seen.count { books.seen.append(contentsOf: repeatElement(0, count: word - books.seen.count + 64)) }
            if books.seen[word] & bit != 0 { return false }
            books.seen[word] |= bit
            books.delivered += 1
            return true
        }
        if fresh {
            totals.delivered.add(1, ordering: .relaxed)
            latency.record(nanoseconds: latencyNanoseconds)
        } else {
            totals.duplicated.add(1, ordering: .relaxed)
        }
        return fresh
    }

    func misdelivered() { totals.misdelivered.add(1, ordering: .relaxed) }
    func unreadable() { totals.unreadable.add(1, ordering: .relaxed) }
    func answeredError(_ text: String) {
        totals.errors.add(1, ordering: .relaxed)
        totals.firstError.withLock { $0 = $0 ?? text }
    }
    func closedEarly() { totals.closedEarly.add(1, ordering: .relaxed) }
    /// A Gateway API call that failed: its message was never sent.
    func callFailed() { totals.failedCalls.add(1, ordering: .relaxed) }
    var failedCalls: Int { totals.failedCalls.load(ordering: .relaxed) }

    var sent: Int { totals.sent.load(ordering: .relaxed) }
    var delivered: Int { totals.delivered.load(ordering: .relaxed) }

    func tally() -> DeliveryTally {
        DeliveryTally(
            sent: sent, delivered: delivered,
            duplicated: totals.duplicated.load(ordering: .relaxed),
            misdelivered: totals.misdelivered.load(ordering: .relaxed),
            errors: totals.errors.load(ordering: .relaxed), firstError: totals.firstError.withLock { $0 },
            unreadable: totals.unreadable.load(ordering: .relaxed),
            closedEarly: totals.closedEarly.load(ordering: .relaxed)
        )
    }

    /// Waits until everything sent has arrived or `timeout` passed; returns when that was.
    func drain(timeout: Duration) async -> Int64 {
        let deadline = MonotonicClock.nanoseconds() + timeout.nanoseconds
        while delivered < sent, MonotonicClock.nanoseconds() < deadline {
            try? await Task.sleep(for: .milliseconds(1))
        }
        return MonotonicClock.nanoseconds()
    }
}
