/// Why a node subscribes to a relay channel: it holds a connection of the user, or one of
/// its connections is subscribed to the topic. Both are counted in a `HolderBook` and
/// exchanged on their channel the same way (JOINED, HERE, LEFT).
enum RelaySubject: Hashable, Sendable {
    case user(String)
    case topic(String)
}
