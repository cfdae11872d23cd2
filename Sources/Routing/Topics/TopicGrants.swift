/// The topics a token's `topics` claim grants: each entry is an exact topic name, or a
/// prefix ending in `*` (`room:*` grants every topic of the room namespace, `*` all).
package struct TopicGrants: Sendable, Equatable {
    package let patterns: [String]

    package init(_ patterns: [String] = []) {
        self.patterns = patterns
    }

    package func allows(_ topic: String) -> Bool {
        patterns.contains { pattern in
            pattern.hasSuffix("*") ? topic.utf8.starts(with: pattern.utf8.dropLast()) : topic == pattern
        }
    }
}
