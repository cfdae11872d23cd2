import RedisBackplane
import Essentials
import Presence
import RedisClient
import Routing
import Testing

/// On a Redis Cluster every key and channel of one user shares the user's slot, whatever
/// characters the user id holds, and ids that differ stay apart.
@Suite("Hash tags of user ids")
struct HashTagTests {
    @Test("ids with '}', '%' or '{' keep one slot per user, distinct names, and read back from the channel", arguments: [
        "}starts-with-brace", "x}1", "x}2", "%7D", "%}", "a{b}c", "plain",
    ])
    func oneSlotPerUser(_ user: String) {
        let channels = RelayChannels(prefix: "sb:", hashTagged: true)
        let presence = PresenceKeys(prefix: "sb:", hashTagged: true)
        let names = [channels.user(user), channels.inbox(user), channels.inboxEpoch(user), presence.user(user)]
        #expect(Set(names.map { RedisHashSlot.of($0) }).count == 1, "\(names)")
        #expect(RedisHashSlot.of(channels.user(user)) == RedisHashSlot.of(user.replacing("%", with: "%25").replacing("}", with: "%7D")))
        #expect(channels.userOf(channels.user(user)) == user)
    }

    @Test("x}1 and x}2 are told apart and do not share the slot of x")
    func apart() {
        let channels = RelayChannels(prefix: "sb:", hashTagged: true)
        #expect(channels.inbox("x}1") != channels.inbox("x}2"))
        #expect(RedisHashSlot.of(channels.inbox("x}1")) != RedisHashSlot.of(channels.inbox("x")) || RedisHashSlot.of(channels.inbox("x}2")) != RedisHashSlot.of(channels.inbox("x")))
        #expect(RedisHashTag.unwrap(Substring(RedisHashTag.wrap("%257D"))) == "%257D")
    }
}
