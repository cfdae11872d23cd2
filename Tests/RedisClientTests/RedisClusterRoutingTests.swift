import Essentials
import RedisClient
import Testing

/// The parts of cluster routing that need no network: slots, redirects, the topology
/// reply and the `--redis` forms of a cluster.
@Suite("Redis Cluster routing, without a server")
struct RedisClusterRoutingTests {
    @Test("slots are CRC16 modulo 16384 of the key, or of its first non-empty hash tag")
    func slots() {
        // The specification's check value, and slots Redis 7's CLUSTER KEYSLOT gives.
        #expect(RedisHashSlot.of("123456789") == 12739)
        #expect(RedisHashSlot.of("sb:inbox:{alice}") == 749)
        #expect(RedisHashSlot.of("sb:relay:user:{bob}") == 8955)
        #expect(RedisHashSlot.of("sb:user:{alice}") == RedisHashSlot.of("alice"), "the tag alone decides")
        // Edge cases, each against the slot redis-server 7.0.15's CLUSTER KEYSLOT answers.
        #expect(RedisHashSlot.of("alice") == 749)
        #expect(RedisHashSlot.of("a{}b") == 13694, "an empty tag is no tag: the whole key")
        #expect(RedisHashSlot.of("{}alice") == 1660)
        #expect(RedisHashSlot.of("x{a}b}") == 15495, "the first closing brace ends the tag")
        #expect(RedisHashSlot.of("{a{b}") == 13340)
        #expect(RedisHashSlot.of("a{b") == 13340, "an unclosed brace is no tag")
    }

    @Test("MOVED and ASK are parsed; other errors are not redirects")
    func redirects() {
        #expect(RedisRedirect("MOVED 15495 127.0.0.1:7003") == nil ? false : true)
        let moved = RedisRedirect("MOVED 15495 127.0.0.1:7003")
        #expect(moved?.kind == .moved && moved?.slot == 15495 && moved?.address == HostAndPort(host: "127.0.0.1", port: 7003))
        let ask = RedisRedirect("ASK 3 10.0.0.2:6379")
        #expect(ask?.kind == .ask && ask?.slot == 3 && ask?.address == HostAndPort(host: "10.0.0.2", port: 6379))
        #expect(RedisRedirect("MOVED 16384 127.0.0.1:7003") == nil)
        #expect(RedisRedirect("ERR unknown command") == nil)
        #expect(RedisRedirect("CROSSSLOT Keys in request don't hash to the same slot") == nil)
    }

    @Test("CLUSTER SLOTS gathers each primary's ranges into one shard; an empty host is the node asked")
    func topology() throws {
        func node(_ host: String, _ port: Int64) -> RedisReply { .array([.string(Array(host.utf8)), .integer(port), .string(Array("id".utf8))]) }
        let reply = RedisReply.array([
            .array([.integer(0), .integer(5000), node("", 7001), node("127.0.0.1", 7004)]),
            .array([.integer(5001), .integer(16383), node("127.0.0.1", 7002)]),
            .array([.integer(5001 - 1), .integer(5000), node("", 7001)]),
        ])
        let asked = HostAndPort(host: "10.1.1.1", port: 7001)
        let topology = try #require(RedisClusterTopology(clusterSlots: reply, asked: asked))
        #expect(topology.shards.count == 2)
        #expect(topology.shards[0].primary == asked)
        #expect(topology.shards[0].replicas == [HostAndPort(host: "127.0.0.1", port: 7004)])
        #expect(topology.coversEverySlot)
        #expect(topology.shardIndex(ofSlot: 0) == 0)
        #expect(topology.shardIndex(ofSlot: 5001) == 1)
        #expect(topology.nodes.count == 3)
        let partial = try #require(RedisClusterTopology(clusterSlots: .array([.array([.integer(0), .integer(10), node("h", 1)])]), asked: asked))
        #expect(!partial.coversEverySlot)
        #expect(partial.shardIndex(ofSlot: 11) == nil)
        #expect(RedisClusterTopology(clusterSlots: .error("ERR This instance has cluster support disabled"), asked: asked) == nil)

        // A reply no Redis sends (a spoofed or broken peer): more ranges than slots, or a
        // port no TCP port is, is refused instead of trapping.
        let flood = RedisReply.array((0..<70_000).map { .array([.integer(Int64($0 % 16384)), .integer(Int64($0 % 16384)), node("h\($0)", 1)]) })
        #expect(RedisClusterTopology(clusterSlots: flood, asked: asked) == nil)
        #expect(RedisClusterTopology(clusterSlots: .array([.array([.integer(0), .integer(16383), node("h", 70_000)])]), asked: asked) == nil)
    }

    @Test("--redis names a cluster by redis+cluster:// or by several seeds; a cluster has only database 0; passwords stay hidden")
    func endpoints() throws {
        let seeds = try #require(RedisEndpoint("redis+cluster://sb:pw@10.0.0.1:7000,10.0.0.2:7001"))
        #expect(seeds.isCluster)
        #expect(seeds.clusterSeeds == [HostAndPort(host: "10.0.0.1", port: 7000), HostAndPort(host: "10.0.0.2", port: 7001)])
        #expect(seeds.username == "sb" && seeds.password == "pw")
        #expect(seeds.description == "redis+cluster://sb:***@10.0.0.1:7000,10.0.0.2:7001")
        let one = try #require(RedisEndpoint("redis+cluster://redis-0"))
        #expect(one.clusterSeeds == [HostAndPort(host: "redis-0", port: 6379)])
        let list = try #require(RedisEndpoint("redis://a:1,b:2"))
        #expect(list.isCluster && list.clusterSeeds?.count == 2)
        let tls = try #require(RedisEndpoint("rediss+cluster://a:1"))
        #expect(tls.tls && tls.isCluster)
        #expect(RedisEndpoint("redis+cluster://a:1/2") == nil, "a cluster has only database 0")
        #expect(RedisEndpoint("redis://a:1,") == nil)
        #expect(RedisEndpoint("redis://a:1")?.isCluster == false)
        #expect(seeds.at(HostAndPort(host: "10.0.0.9", port: 7009)).description == "redis://sb:***@10.0.0.9:7009")
    }
}
