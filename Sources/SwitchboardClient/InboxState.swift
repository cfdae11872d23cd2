/// The inbox as a welcome reports it.
public struct InboxState: Sendable, Equatable {
    /// Just before the next durable push this connection gets.
    public let position: InboxPosition
    /// The connect asked to resume from a position.
    public let resumed: Bool
    /// Every durable push after that position follows the welcome; false: the inbox no
    /// longer reaches back that far (a reason arrives on `resyncs`).
    public let recovered: Bool
    /// Pushes replayed after the welcome.
    public let replayed: Int
}
