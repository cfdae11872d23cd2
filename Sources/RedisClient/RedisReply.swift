/// A Redis reply, copied out of hiredis' reply object (which is freed at once).
package enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    package var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    package var string: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    package var array: [RedisReply]? {
        if case .array(let values) = self { return values }
        return nil
    }
}
