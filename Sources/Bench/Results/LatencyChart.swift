import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The latency distribution as an SVG the docs can show: latency against percentile,
/// with the percentile axis stretched towards the tail (x = log10(1/(1-p))), the usual
/// HdrHistogram plot. One line per series.
package enum LatencyChart {
    package struct Series: Sendable {
        package let name: String
        package let latency: LatencySummary
        package init(name: String, latency: LatencySummary) {
            self.name = name
            self.latency = latency
        }
    }

    package static func svg(title: String, series: [Series]) -> String {
        let width = 860.0, height = 460.0, left = 70.0, right = 40.0, top = 40.0
        let legendHeight = 16.0 * Double(series.count) + 8
        let bottom = 50.0 + legendHeight
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let maxX = 5.0  // 99.999th percentile
        // Latency on a log scale, whole decades: closed-loop seconds and open-loop
        // milliseconds stay readable on one chart.
        let values = series.flatMap { $0.latency.curve.map { max($0[1], 1) } }
        let lowDecade = floor(log10(values.min() ?? 1)), highDecade = max(ceil(log10(values.max() ?? 10)), lowDecade + 1)
        func x(_ percentile: Double) -> Double {
            let tail = max(1 - percentile / 100, 1e-5)
            return left + min(log10(1 / tail), maxX) / maxX * plotWidth
        }
        func y(_ micros: Double) -> Double {
            top + plotHeight - (log10(max(micros, 1)) - lowDecade) / (highDecade - lowDecade) * plotHeight
        }
        let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

            """
        for decade in Int(lowDecade)...Int(highDecade) {
            let micros = pow(10, Double(decade))
            let ty = y(micros)
            svg += "<line x1=\"\(left)\" y1=\"\(ty)\" x2=\"\(width - right)\" y2=\"\(ty)\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(ty + 4)\" text-anchor=\"end\">\(LatencySummary.format(UInt64(micros)))</text>\n"
        }
        for (label, percentile) in [("0%", 0.0), ("90%", 90.0), ("99%", 99.0), ("99.9%", 99.9), ("99.99%", 99.99), ("99.999%", 99.999)] {
            let tx = x(percentile)
            svg += "<line x1=\"\(tx)\" y1=\"\(top)\" x2=\"\(tx)\" y2=\"\(top + plotHeight)\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(tx)\" y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\">\(label)</text>\n"
        }
        svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(top + plotHeight + 34)\" text-anchor=\"middle\">percentile (latency on a log scale)</text>\n"
        for (index, entry) in series.enumerated() {
            let color = colors[index % colors.count]
            let points = entry.latency.curve.map { "\(String(format2: x($0[0]))),\(String(format2: y($0[1])))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"/>\n"
            let legendY = top + plotHeight + 56 + Double(index) * 16
            svg += "<rect x=\"\(left)\" y=\"\(legendY - 6)\" width=\"14\" height=\"3\" fill=\"\(color)\"/>"
            let summary = "p50 \(LatencySummary.format(entry.latency.p50)), p99 \(LatencySummary.format(entry.latency.p99)), "
                + "max \(LatencySummary.format(entry.latency.max))"
            svg += "<text x=\"\(left + 20)\" y=\"\(legendY)\" font-size=\"11\">\(escape(entry.name)) — \(summary)</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
