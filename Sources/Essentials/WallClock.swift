#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Wall-clock time in milliseconds since the Unix epoch: what messages and leases carry,
/// comparable between processes and machines.
package enum WallClock {
    package static var milliseconds: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
