/// The node's counters read back from its own Prometheus exposition, so that every
/// number the dashboard shows is the number `/metrics` serves.
struct MetricTotals: Sendable, Equatable {
    private struct Series: Sendable, Equatable {
        let name: Substring
        let labels: Substring
        let value: Double
    }

    private let series: [Series]

    /// Parses `name{labels} value` lines; comments and malformed lines are skipped.
    init(exposition: String) {
        series = exposition.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
                  let value = Double(line[line.index(after: space)...]) else { return nil }
            let key = line[..<space]
            guard let brace = key.firstIndex(of: "{") else { return Series(name: key, labels: "", value: value) }
            return Series(name: key[..<brace], labels: key[brace...], value: value)
        }
    }

    /// How many series of `name` have `value` (gauges that hold a state).
    func count(_ name: String, equalTo value: Double) -> Double {
        Double(series.reduce(0) { $1.name == name && $1.value == value ? $0 + 1 : $0 })
    }

    /// The sum of every series of `name`.
    func sum(_ name: String) -> Double {
        series.reduce(0) { $1.name == name ? $0 + $1.value : $0 }
    }

    /// The sum of the series of `name` with `label="value"` (or, `excluding`, without it).
    func sum(_ name: String, _ label: String, _ value: String, excluding: Bool = false) -> Double {
        let needle = "\(label)=\"\(value)\""
        return series.reduce(0) { total, item in
            item.name == name && item.labels.contains(needle) != excluding ? total + item.value : total
        }
    }
}
