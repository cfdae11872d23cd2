import CHiredis
package import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// One command in RESP, formatted by hiredis (`redisFormatCommandArgv`, binary-safe) on
/// the caller's thread, so the event loop only writes bytes.
package struct RedisCommand: Sendable {
    package let bytes: ByteBuffer

    package init(_ arguments: [[UInt8]]) {
        let total = arguments.reduce(0) { $0 + $1.count }
        // One block for every argument, and argv pointing into it.
        let block = UnsafeMutablePointer<UInt8>.allocate(capacity: max(total, 1))
        defer { block.deallocate() }
        var argv: [UnsafePointer<CChar>?] = []
        var lengths: [Int] = []
        argv.reserveCapacity(arguments.count)
        lengths.reserveCapacity(arguments.count)
        var offset = 0
        for argument in arguments {
            argument.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { (block + offset).update(from: base, count: source.count) }
            }
            argv.append(UnsafeRawPointer(block + offset).assumingMemoryBound(to: CChar.self))
            lengths.append(argument.count)
            offset += argument.count
        }
        var target: UnsafeMutablePointer<CChar>?
        let length = redisFormatCommandArgv(&target, Int32(arguments.count), &argv, lengths)
        defer { if let target { redisFreeCommand(target) } }
        guard length > 0, let target else {
            // Only an allocation failure gets here.
            bytes = ByteBuffer()
            return
        }
        bytes = ByteBuffer(bytes: UnsafeRawBufferPointer(start: target, count: Int(length)))
    }

    package init(_ arguments: [String]) {
        self.init(arguments.map { Array($0.utf8) })
    }
}
