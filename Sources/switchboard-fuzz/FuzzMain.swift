import FuzzTargets
import Foundation

#if FUZZING
/// libFuzzer's entry: one input for the target named by `FUZZ_TARGET`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    target.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
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
