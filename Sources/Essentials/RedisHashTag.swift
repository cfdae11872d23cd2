/// A user's or node's name as a Redis Cluster hash tag, `{name}`, so that every key and
/// channel of one name lands in one slot. Redis takes the tag up to the first `}`, so a `}`
/// in the name would end it early: `x}1` and `x}2` would share the slot of `x` (one shard
/// for all of them), and a name starting with `}` would have no tag at all (its keys in
/// different slots, and a script touching them refused CROSSSLOT). `%` and `}` are therefore
/// written `%25` and `%7D` inside the tag, which keeps names apart and the tag whole.
package enum RedisHashTag {
    package static func wrap(_ name: String) -> String {
        guard name.utf8.contains(where: { $0 == UInt8(ascii: "}") || $0 == UInt8(ascii: "%") }) else { return "{\(name)}" }
        var escaped = ""
        for character in name {
            switch character {
            case "%": escaped += "%25"
            case "}": escaped += "%7D"
            default: escaped.append(character)
            }
        }
        return "{\(escaped)}"
    }

    /// The name in `{…}`; nil when `tagged` is not one `wrap` writes.
    package static func unwrap(_ tagged: Substring) -> String? {
        guard tagged.count >= 2, tagged.first == "{", tagged.last == "}" else { return nil }
        let inner = tagged.dropFirst().dropLast()
        guard inner.contains("%") else { return String(inner) }
        return String(inner.replacing("%7D", with: "}").replacing("%25", with: "%"))
    }
}
