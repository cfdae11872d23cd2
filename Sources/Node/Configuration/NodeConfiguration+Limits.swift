import Essentials
import SwitchboardProtocol

extension NodeConfiguration {
    /// The limits a connection meets, as its welcome announces them (docs/protocol.md § Limits).
    var announcedLimits: Switchboard_V1_Limits {
        func clamped(_ value: Int) -> UInt32 { UInt32(clamping: value) }
        var limits = Switchboard_V1_Limits()
        limits.maxFrameBytes = clamped(maxFrameBytes)
        limits.framesPerSecond = clamped(clientRate)
        limits.frameBurst = clamped(clientBurst)
        limits.bytesPerSecond = clamped(clientBytesRate)
        limits.byteBurst = clamped(clientByteBurst)
        limits.callsInFlight = clamped(maxCallsPerConnection)
        limits.presenceConnections = clamped(presenceLimit)
        limits.queueFrames = clamped(queueMessages)
        limits.queueBytes = clamped(queueBytes)
        limits.pingIntervalMs = clamped(Int(pingInterval.milliseconds))
        limits.topics = clamped(topicsPerConnection)
        return limits
    }
}
