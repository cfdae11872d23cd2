/// Redis Cluster's key → slot map: CRC16 (XMODEM) of the key, or of the text inside its
/// first non-empty `{…}` (the hash tag), modulo 16384. Keys sharing a tag share a slot,
/// which is what lets one script touch all of one user's keys.
package enum RedisHashSlot {
    package static let count = 16384

    /// Concrete over bytes in memory: this runs for every command on a cluster.
    package static func of(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        if let open = key.firstIndex(of: UInt8(ascii: "{")) {
            let afterOpen = open + 1
            if let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen {
                return Int(crc16(UnsafeBufferPointer(rebasing: key[afterOpen..<close])) & 0x3FFF)
            }
        }
        return Int(crc16(key) & 0x3FFF)
    }

    package static func of(_ key: [UInt8]) -> Int {
        key.withUnsafeBufferPointer { of($0) }
    }

    package static func of(_ key: String) -> Int {
        of(Array(key.utf8))
    }

    /// CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), as the cluster specification
    /// defines it; a table made once.
    static func crc16(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt16 {
        table.withUnsafeBufferPointer { table in
            var crc: UInt16 = 0
            for byte in bytes {
                crc = (crc << 8) ^ table[Int((crc >> 8) ^ UInt16(byte))]
            }
            return crc
        }
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
