import Synchronization

/// A flag one task sets and others read: whether a socket has been welcomed.
final class OnceFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() {
        value.store(true, ordering: .releasing)
    }
}
