import FuzzTargets
import Foundation

#if FUZZING
/// libFuzzer's entry: one input for the target named by `FUZZ_TARGET`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    target.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main`: hand the process to libFuzzer.
@_cdecl("switchboard_fuzz_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return runDriver(&count, &arguments) { data, size in fuzz(data, size) }
}

private let target: FuzzTarget = {
    guard let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
        fatalError("set FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))")
    }
    return target
}()
#else
/// Without libFuzzer: `switchboard-fuzz <target> <file>…` replays inputs through a target
/// (a crash found by scripts/fuzz.sh, reproduced in an ordinary debug build).
@main
struct FuzzMain {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: switchboard-fuzz <\(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|"))> <input file>…")
            print("fuzzing: scripts/fuzz.sh <target> <seconds>")
            return
        }
        for path in arguments.dropFirst() {
            target.run(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            print("ok \(path)")
        }
    }
}
#endif
