/// What the slow readers of a chaos run saw (`SlowReaders`).
package struct SlowReadersTally: Codable, Sendable {
    /// Connections open now (at the end: how many were still open).
    package var connections = 0
    /// Pushes sent to them that their node delivered to a connection; refused or offline.
    package var sent = 0
    package var notDelivered = 0
    /// Frames they have read (pushes and broadcasts), by the end of the run.
    package var read = 0
    /// Closed by their node as slow consumers, or for another reason.
    package var cutAsSlow = 0
    package var closedOtherwise = 0
}
