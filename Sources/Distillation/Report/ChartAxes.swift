/// Axes, grid lines and tick labels around a `PlotBox`.
enum ChartAxes {
    static let grid = "#e4e4e4"
    static let ink = "#555"

    /// A vertical value axis on the left (horizontal grid lines) for `scale`.
    static func vertical(_ box: PlotBox, scale: NiceScale, label: String?) -> [String] {
        var parts: [String] = []
        for tick in scale.ticks {
            let y = scale.map(tick, from: box.bottom, to: box.top)
            parts.append(SVG.line(box.left, y, box.right, y, stroke: grid))
            parts.append(SVG.line(box.left - 4, y, box.left, y, stroke: ink))
            parts.append(SVG.text(box.left - 7, y + 4, ReportFormat.tick(tick, step: scale.step), anchor: "end", size: 10, fill: ink))
        }
        parts.append(SVG.line(box.left, box.top, box.left, box.bottom, stroke: ink))
        if let label {
            let x = box.left - 44, y = box.top + box.height / 2
            parts.append(SVG.text(x, y, label, anchor: "middle", size: 11, fill: ink, rotate: -90))
        }
        return parts
    }

    /// A horizontal value axis at the bottom (vertical grid lines) for `scale`.
    static func horizontal(_ box: PlotBox, scale: NiceScale, label: String?) -> [String] {
        var parts: [String] = []
        for tick in scale.ticks {
            let x = scale.map(tick, from: box.left, to: box.right)
            parts.append(SVG.line(x, box.top, x, box.bottom, stroke: grid))
            parts.append(SVG.line(x, box.bottom, x, box.bottom + 4, stroke: ink))
            parts.append(SVG.text(x, box.bottom + 16, ReportFormat.tick(tick, step: scale.step), anchor: "middle", size: 10, fill: ink))
        }
        parts.append(SVG.line(box.left, box.bottom, box.right, box.bottom, stroke: ink))
        if let label {
            parts.append(SVG.text(box.left + box.width / 2, box.bottom + 34, label, anchor: "middle", size: 11, fill: ink))
        }
        return parts
    }

    /// A legend: one colour swatch and label per entry, stacked from (`x`, `y`).
    static func legend(x: Double, y: Double, entries: [(label: String, colour: String)], limit: Int = 28) -> [String] {
        var parts: [String] = []
        for (index, entry) in entries.enumerated() {
            let top = y + Double(index) * 18
            parts.append(SVG.rect(x, top, 12, 12, fill: entry.colour, title: entry.label))
            parts.append(SVG.text(x + 18, top + 10, SVG.shorten(entry.label, to: limit), size: 11))
        }
        return parts
    }

    /// The value scale of a percentage chart: 0–100 when the data fit, else a nice scale over 0 and the data.
    static func percentScale(_ values: [Double]) -> NiceScale {
        let low = min(0, values.min() ?? 0)
        let high = max(values.max() ?? 100, low + 1)
        if low >= 0 && high <= 100 { return NiceScale(minimum: 0, maximum: 100, targetTicks: 6) }
        return NiceScale(minimum: low, maximum: high, targetTicks: 6)
    }
}
