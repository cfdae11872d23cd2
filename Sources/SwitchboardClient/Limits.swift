import SwitchboardWire

/// A node's limits as one connection meets them (docs/protocol.md § Limits), from the
/// welcome: the client refuses a frame past `maxFrameBytes` itself rather than have the
/// node close the connection over it.
public struct Limits: Sendable, Equatable {
    /// The largest frame the node takes, in bytes; a larger one would close the connection (1009).
    public let maxFrameBytes: Int
    /// Frames per second sustained, and at once above that; past them frames are refused `rate_limited`.
    public let framesPerSecond: Int
    public let frameBurst: Int
    /// The same for bytes.
    public let bytesPerSecond: Int
    public let byteBurst: Int
    /// Backend calls in flight at once; more are answered `busy`.
    public let callsInFlight: Int
    /// Connections a presence answer lists at most.
    public let presenceConnections: Int
    /// Frames and bytes the node queues for this connection before closing it (4008).
    public let queueFrames: Int
    public let queueBytes: Int
    /// How often the node pings.
    public let pingInterval: Duration
    /// Topics the connection may be subscribed to at once (0: not announced).
    public let topics: Int

    init(_ limits: Switchboard_V1_Limits) {
        maxFrameBytes = Int(limits.maxFrameBytes)
        framesPerSecond = Int(limits.framesPerSecond)
        frameBurst = Int(limits.frameBurst)
        bytesPerSecond = Int(limits.bytesPerSecond)
        byteBurst = Int(limits.byteBurst)
        callsInFlight = Int(limits.callsInFlight)
        presenceConnections = Int(limits.presenceConnections)
        queueFrames = Int(limits.queueFrames)
        queueBytes = Int(limits.queueBytes)
        pingInterval = .milliseconds(limits.pingIntervalMs)
        topics = Int(limits.topics)
    }
}
