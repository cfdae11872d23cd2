#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// The latency distribution as an SVG the docs can show: latency against percentile,
/// with the percentile axis stretched towards the tail (x = log10(1/(1-p))), the usual
/// HdrHistogram plot. One line per series.
public enum LatencyChart {
    public struct Series: Sendable {
        public let name: String
        public let latency: LatencySummary
        public init(name: String, latency: LatencySummary) {
            self.name = name
            self.latency = latency
        }
    }

    public static func svg(title: String, series: [Series]) -> String {
        let width = 720.0, height = 420.0, left = 70.0, right = 20.0, top = 40.0, bottom = 60.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let maxX = 5.0  // 99.999th percentile
        let maxMicros = max(series.flatMap { $0.latency.curve.map { $0[1] } }.max() ?? 1, 1)
        let yTop = niceCeiling(maxMicros)
        func x(_ percentile: Double) -> Double {
            let tail = max(1 - percentile / 100, 1e-5)
            return left + min(log10(1 / tail), maxX) / maxX * plotWidth
        }
        func y(_ micros: Double) -> Double { top + plotHeight - micros / yTop * plotHeight }
        let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

            """
        for tick in 0...4 {
            let micros = yTop * Double(tick) / 4
            let ty = y(micros)
            svg += "<line x1=\"\(left)\" y1=\"\(ty)\" x2=\"\(width - right)\" y2=\"\(ty)\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(ty + 4)\" text-anchor=\"end\">\(LatencySummary.format(UInt64(micros)))</text>\n"
        }
        for (label, percentile) in [("0%", 0.0), ("90%", 90.0), ("99%", 99.0), ("99.9%", 99.9), ("99.99%", 99.99), ("99.999%", 99.999)] {
            let tx = x(percentile)
            svg += "<line x1=\"\(tx)\" y1=\"\(top)\" x2=\"\(tx)\" y2=\"\(top + plotHeight)\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(tx)\" y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\">\(label)</text>\n"
        }
        svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(height - 14)\" text-anchor=\"middle\">percentile</text>\n"
        for (index, entry) in series.enumerated() {
            let color = colors[index % colors.count]
            let points = entry.latency.curve.map { "\(String(format2: x($0[0]))),\(String(format2: y($0[1])))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"/>\n"
            let legendY = top + 16 + Double(index) * 16
            svg += "<rect x=\"\(left + 10)\" y=\"\(legendY - 9)\" width=\"12\" height=\"3\" fill=\"\(color)\"/>"
            svg += "<text x=\"\(left + 28)\" y=\"\(legendY)\">\(escape(entry.name)): \(escape(entry.latency.description))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private static func niceCeiling(_ value: Double) -> Double {
        let magnitude = pow(10, floor(log10(value)))
        for step in [1.0, 2.0, 2.5, 5.0, 10.0] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
