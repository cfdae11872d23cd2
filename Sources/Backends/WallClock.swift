#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Wall-clock milliseconds, as the backends' messages carry them.
enum WallClock {
    static var milliseconds: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
