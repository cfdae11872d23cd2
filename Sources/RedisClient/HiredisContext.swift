import CHiredis

#if canImport(Glibc)
import Glibc
#endif

/// One hiredis connection. Not thread-safe (hiredis contexts are not): each is owned
/// by one thread for its whole life, and freed with it. After any error it is dead.
final class HiredisContext {
    private let context: UnsafeMutablePointer<redisContext>
    /// Replies larger than this are refused rather than copied.
    static let maxReplyBytes = 64 * 1024 * 1024

    init(endpoint: RedisEndpoint, connectTimeout: Duration) throws(RedisError) {
        let timeout = Self.timeval(connectTimeout)
        guard let context = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), timeout) else {
            throw .unavailable("cannot allocate a hiredis context")
        }
        if context.pointee.err != 0 {
            let message = Self.errorString(context)
            redisFree(context)
            throw .unavailable("\(endpoint): \(message)")
        }
        redisEnableKeepAlive(context)
        self.context = context
    }

    deinit {
        redisFree(context)
    }

    var fileDescriptor: Int32 { context.pointee.fd }

    /// Bounds every blocking read and write from now on.
    func setTimeout(_ duration: Duration) {
        redisSetTimeout(context, Self.timeval(duration))
    }

    /// Queues a command in hiredis' output buffer (binary-safe).
    func append(_ arguments: [[UInt8]]) throws(RedisError) {
        let status: Int32 = withArgv(arguments) { argc, argv, lengths in
            redisAppendCommandArgv(context, argc, argv, lengths)
        }
        guard status == REDIS_OK else { throw .unavailable(Self.errorString(context)) }
    }

    /// Flushes what is queued and blocks for the next reply.
    func nextReply() throws(RedisError) -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw .unavailable(Self.errorString(context))
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return try Self.copy(reply)
    }

    private static func copy(_ reply: UnsafeMutablePointer<redisReply>) throws(RedisError) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            guard value.len <= maxReplyBytes else { throw .replyTooLarge(value.len) }
            return .string(value.str.map { Array(UnsafeRawBufferPointer(start: $0, count: value.len)) } ?? [])
        case REDIS_REPLY_STATUS:
            return .status(value.str.map { String(cString: $0) } ?? "")
        case REDIS_REPLY_ERROR:
            return .error(value.str.map { String(cString: $0) } ?? "")
        case REDIS_REPLY_INTEGER:
            return .integer(value.integer)
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                guard let element = value.element[index] else { elements.append(.null); continue }
                elements.append(try copy(element))
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private func withArgv<Result>(
        _ arguments: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result
    ) -> Result {
        let buffers = arguments.map { bytes -> UnsafeMutablePointer<CChar> in
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            if !bytes.isEmpty {
                bytes.withUnsafeBufferPointer { source in
                    source.withMemoryRebound(to: CChar.self) { buffer.update(from: $0.baseAddress!, count: bytes.count) }
                }
            }
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        var argv = buffers.map { UnsafePointer<CChar>?(UnsafePointer($0)) }
        let lengths = arguments.map(\.count)
        return argv.withUnsafeMutableBufferPointer { argvBuffer in
            lengths.withUnsafeBufferPointer { lengthBuffer in
                body(Int32(arguments.count), argvBuffer.baseAddress!, lengthBuffer.baseAddress!)
            }
        }
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func timeval(_ duration: Duration) -> Glibc.timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
