import Foundation

/// The settings table of one section of docs/configuration.md: each flag (without `--`)
/// and the variable cell of its row, so that tests can hold the document to the lists in
/// the code.
package enum DocumentedSettings {
    package static func rows(section heading: String) throws -> [String: String] {
        let document = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/configuration.md"), encoding: .utf8
        )
        guard let start = document.range(of: "\n\(heading)\n") else { throw TestFailure("docs/configuration.md has no section '\(heading)'") }
        let rest = document[start.upperBound...]
        let section = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
        var rows: [String: String] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `--") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2 else { continue }
            for flag in cells[0].split(separator: ",") {
                rows[flag.trimmingCharacters(in: CharacterSet(charactersIn: " `-"))] = cells[1]
            }
        }
        return rows
    }
}
