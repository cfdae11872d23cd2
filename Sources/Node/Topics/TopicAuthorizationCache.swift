/// The authorizer backend's answers, each kept `ttl` per user, topic and action, so that a
/// client resubscribing after every reconnect (or publishing at its rate) does not ask the
/// backend each time. At most `capacity` answers: past it, expired ones go first, then all.
/// Time is given by the caller, so expiry is tested on virtual time.
struct TopicAuthorizationCache {
    struct Key: Hashable {
        let user: String
        let topic: String
        let action: TopicAuthorizer.Action
    }

    private var answers: [Key: (decision: TopicAuthorizer.Decision, expires: Duration)] = [:]
    let ttl: Duration
    let capacity: Int

    init(ttl: Duration, capacity: Int = 65_536) {
        self.ttl = ttl
        self.capacity = capacity
    }

    var count: Int { answers.count }

    /// The answer for `key` while it is younger than `ttl`.
    mutating func decision(for key: Key, now: Duration) -> TopicAuthorizer.Decision? {
        guard let answer = answers[key] else { return nil }
        guard now < answer.expires else {
            answers[key] = nil
            return nil
        }
        return answer.decision
    }

    mutating func store(_ decision: TopicAuthorizer.Decision, for key: Key, now: Duration) {
        guard ttl > .zero else { return }
        if answers.count >= capacity, answers[key] == nil {
            answers = answers.filter { now < $0.value.expires }
            if answers.count >= capacity { answers.removeAll(keepingCapacity: true) }
        }
        answers[key] = (decision, now + ttl)
    }
}
