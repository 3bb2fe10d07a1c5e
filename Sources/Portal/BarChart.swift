/// A stacked bar chart drawn on the server as SVG (no script, readable without colours: every
/// bar has its figures as a tooltip and the page lists them in a table). Each bar segment
/// carries its period, part and value as data attributes, so a test can read back what was
/// plotted; heights are proportional to the values on a scale rounded up to 1, 2 or 5 × 10ⁿ.
struct BarChart {
    struct Bar {
        let label: String
        /// Shown every `labelEvery` bars under the axis.
        let period: String
        let values: [String: Int]
    }

    let title: String
    let bars: [Bar]
    /// The parts in legend and stacking order, with their names in the page's language.
    let parts: [(key: String, name: String)]
    var labelEvery = 1

    static let palette = ["#0b5394", "#c0392b", "#27864b", "#d68910", "#7d3c98", "#5d6d7e"]
    static let (width, height, left, right, top, bottom, legendHeight) = (720, 250, 48, 12, 14, 36, 28)

    /// The top of the scale: the largest total rounded up to 1, 2 or 5 × 10ⁿ (at least 1).
    var scaleTop: Int {
        let largest = max(1, bars.map { $0.values.values.reduce(0, +) }.max() ?? 0)
        var step = 1
        while true {
            for m in [1, 2, 5] where m * step >= largest { return m * step }
            step *= 10
        }
    }

    func svg() -> String {
        let (w, h) = (Self.width, Self.height + Self.legendHeight + (legend.rows - 1) * Self.legendRow)
        let plotWidth = Double(Self.width - Self.left - Self.right)
        let plotHeight = Double(Self.height - Self.top - Self.bottom)
        let top = scaleTop
        let scale = plotHeight / Double(top)
        let slot = plotWidth / Double(max(1, bars.count))
        let barWidth = slot * 0.72
        let baseline = Double(Self.top) + plotHeight
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(w) \(h)\" role=\"img\" aria-label=\"\(Self.escape(title))\" class=\"chart\" data-scale-top=\"\(top)\">"
        out += "<title>\(Self.escape(title))</title>"
        // The scale: 0, half and the top, with grid lines.
        for tick in Set([0, top / 2, top]).sorted() {
            let y = baseline - Double(tick) * scale
            out += "<line x1=\"\(Self.left)\" x2=\"\(Self.width - Self.right)\" y1=\"\(Self.f(y))\" y2=\"\(Self.f(y))\" stroke=\"#d5dbe0\" stroke-width=\"1\"/>"
            out += "<text x=\"\(Self.left - 6)\" y=\"\(Self.f(y + 4))\" text-anchor=\"end\" font-size=\"12\" fill=\"#5a6570\">\(tick)</text>"
        }
        for (i, bar) in bars.enumerated() {
            let x = Double(Self.left) + Double(i) * slot + (slot - barWidth) / 2
            var y = baseline
            for (k, part) in parts.enumerated() {
                let value = bar.values[part.key] ?? 0
                guard value > 0 else { continue }
                let height = Double(value) * scale
                y -= height
                out += "<rect x=\"\(Self.f(x))\" y=\"\(Self.f(y))\" width=\"\(Self.f(barWidth))\" height=\"\(Self.f(height))\""
                out += " fill=\"\(Self.palette[k % Self.palette.count])\" data-period=\"\(Self.escape(bar.period))\" data-part=\"\(Self.escape(part.key))\" data-value=\"\(value)\">"
                out += "<title>\(Self.escape(bar.label)): \(Self.escape(part.name)) \(value)</title></rect>"
            }
            if i % labelEvery == 0 {
                out += "<text x=\"\(Self.f(x + barWidth / 2))\" y=\"\(Self.f(baseline + 18))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1d2327\">\(Self.escape(bar.label))</text>"
            }
        }
        out += "<line x1=\"\(Self.left)\" x2=\"\(Self.width - Self.right)\" y1=\"\(Self.f(baseline))\" y2=\"\(Self.f(baseline))\" stroke=\"#1d2327\" stroke-width=\"1\"/>"
        // The legend, under the axis.
        for (k, (part, place)) in zip(parts, legend.places).enumerated() {
            let (lx, ly) = (place.x, Double(Self.height) + 6 + Double(place.row * Self.legendRow))
            out += "<rect x=\"\(Self.f(lx))\" y=\"\(Self.f(ly))\" width=\"12\" height=\"12\" fill=\"\(Self.palette[k % Self.palette.count])\"/>"
            out += "<text x=\"\(Self.f(lx + 17))\" y=\"\(Self.f(ly + 11))\" font-size=\"12\" fill=\"#1d2327\">\(Self.escape(part.name))</text>"
        }
        return out + "</svg>"
    }

    static let legendRow = 18

    /// Where each legend entry goes: left to right, on a new row when the next would pass the
    /// right edge (names are long in Vietnamese); `rows` of them in all.
    var legend: (places: [(x: Double, row: Int)], rows: Int) {
        var places: [(x: Double, row: Int)] = []
        var (x, row) = (Double(Self.left), 0)
        for part in parts {
            // About 7 px a character at 12 px, a swatch and a gap.
            let width = 30 + Double(part.name.count) * 7
            if x > Double(Self.left) && x + width - 12 > Double(Self.width - Self.right) { (x, row) = (Double(Self.left), row + 1) }
            places.append((x, row))
            x += width
        }
        return (places, row + 1)
    }

    static func f(_ v: Double) -> String { String(Double(Int((v * 10).rounded())) / 10) }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
