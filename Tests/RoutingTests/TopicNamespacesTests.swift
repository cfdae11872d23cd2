import Identity
import Routing
import Testing

@Suite("Topic names, namespaces and claims")
struct TopicNamespacesTests {
    @Test("the setting's text: each namespace with its options, unset options at their safe defaults, printed back the same")
    func parsing() throws {
        let namespaces = try TopicNamespaces(parsing: " room:subscribe=any, publish=any ; feed ; chat:publish=none,echo=off,joins=on;")
        #expect(namespaces.rules(for: "room:1") == TopicNamespace(name: "room", subscribe: .any, publish: .any, echo: true))
        #expect(namespaces.rules(for: "feed:x:y") == TopicNamespace(name: "feed", subscribe: .claim, publish: .claim, echo: true))
        #expect(namespaces.rules(for: "chat:1") == TopicNamespace(name: "chat", subscribe: .claim, publish: .none, echo: false, joins: true))
        #expect(namespaces.rules(for: "other:1") == nil)
        #expect(!namespaces.asksBackend)
        #expect(try TopicNamespaces(parsing: namespaces.description) == namespaces)
        let asking = try TopicNamespaces(parsing: "dm:subscribe=backend;feed:publish=backend,subscribe=any")
        #expect(asking.rules(for: "dm:a+b")?.subscribe == .backend)
        #expect(asking.rules(for: "feed:1")?.publish == .backend)
        #expect(asking.asksBackend)
        #expect(try TopicNamespaces(parsing: asking.description) == asking)
        #expect(!TopicNamespace.allows(.backend, "dm:a+b", grants: TopicGrants(["dm:*"])), "only the authorizer's answer lets a client in")
        #expect(try TopicNamespaces(parsing: "").isEmpty)
    }

    @Test("a mistake in the setting names what is wrong", arguments: [
        ("room:subscribe=everyone", "subscribe is any, claim, backend or none"),
        ("room:echo=yes", "echo is on or off"),
        ("room:joins=1", "joins is on or off"),
        ("room:colour=red", "unknown option 'colour'"),
        ("room:subscribe", "is not key=value"),
        ("room;room", "declared twice"),
        (":subscribe=any", "a namespace is a name"),
        ("ro om:publish=any", "a namespace is a name"),
    ])
    func mistakes(text: String, expected: String) {
        #expect {
            try TopicNamespaces(parsing: text)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test("the name rule: printable ASCII without space, *, braces, quote or backslash; a namespace first; at most 256 bytes")
    func names() {
        for good in ["room:1", "a:", "room:a:b", "x:~!@#$%^&()-_=+[]|;',./<>?`", "room:" + String(repeating: "x", count: 251)] {
            #expect(TopicName.problem(good) == nil, "\(good)")
        }
        for bad in ["", "room", ":1", "room:a b", "room:*", "room:{x}", "room:\"", "room:\\", "room:é", "room:\n", "room:" + String(repeating: "x", count: 252)] {
            #expect(TopicName.problem(bad) != nil, "\(bad)")
        }
        #expect(TopicName.namespace(of: "room:a:b") == "room")
    }

    @Test("a claim grants exact names and prefixes ending in *; permissions any, claim and none")
    func grants() {
        let grants = TopicGrants(["room:*", "match:42"])
        #expect(grants.allows("room:1") && grants.allows("room:"))
        #expect(grants.allows("match:42"))
        #expect(!grants.allows("match:421") && !grants.allows("roo:1") && !grants.allows("rooms:1"))
        #expect(TopicGrants(["*"]).allows("any:thing"))
        #expect(TopicNamespace.allows(.any, "x:1", grants: TopicGrants()))
        #expect(!TopicNamespace.allows(.claim, "x:1", grants: TopicGrants()))
        #expect(TopicNamespace.allows(.claim, "room:1", grants: grants))
        #expect(!TopicNamespace.allows(.none, "room:1", grants: TopicGrants(["*"])))
    }
}
