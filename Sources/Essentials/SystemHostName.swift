#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The machine's host name as the kernel has it (`gethostname`): a container's or pod's
/// name, a VM's name. Not `$HOSTNAME`, which bash sets without exporting and systemd not
/// at all, so a node started by either would not see it.
package enum SystemHostName {
    /// Nil when the kernel has none (empty) or it cannot be read.
    package static var current: String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty || name == "(none)" ? nil : name
    }
}
