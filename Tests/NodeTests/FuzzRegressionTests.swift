import Foundation
import FuzzTargets
import Testing

/// Every seed input and every input a fuzzer once crashed on, replayed through its target
/// on each test run: what `scripts/fuzz.sh` found stays fixed.
@Suite("Fuzzing corpora and regressions, replayed")
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(of target: FuzzTarget) -> [URL] {
        ["corpus", "regressions"].flatMap { folder in
            let directory = root.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
            return ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
                .filter { !$0.lastPathComponent.hasPrefix(".") }
        }
    }

    @Test("each target's seeds and past crashes run to completion", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) async throws {
        let inputs = Self.inputs(of: target)
        #expect(inputs.count >= 5, "the seed corpus of \(target) is in Fuzz/corpus/\(target.rawValue)")
        for input in inputs {
            let bytes = Array(try Data(contentsOf: input))
            // Targets block their thread while the node works (as libFuzzer's does): never
            // a thread of the cooperative pool, which the node needs.
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                Thread {
                    target.run(bytes)
                    done.resume()
                }.start()
            }
        }
    }
}
