/// A horizontal bar chart of one score per row (SQuAD dev F1), teachers and students in two colours.
public struct BarChart: Sendable {
    public struct Bar: Sendable, Equatable {
        public var label: String
        public var value: Double
        public var kind: ReportRow.Kind
        public init(label: String, value: Double, kind: ReportRow.Kind) {
            self.label = label; self.value = value; self.kind = kind
        }
    }

    public static let teacherColour = "#e07b39"
    public static let studentColour = "#2f6db5"

    public var title: String
    public var axisLabel: String
    public var bars: [Bar]

    public init(title: String, axisLabel: String, bars: [Bar]) {
        self.title = title; self.axisLabel = axisLabel; self.bars = bars
    }

    static let labelLimit = 44
    static let barHeight = 18.0
    static let rowHeight = 26.0

    /// The plotting area for `count` bars.
    public func box(count: Int) -> PlotBox {
        let labelWidth = min(SVG.textWidth(String(repeating: "m", count: Self.labelLimit)) * 0.85,
                             bars.map { SVG.textWidth(SVG.shorten($0.label, to: Self.labelLimit)) }.max() ?? 0)
        return PlotBox(left: max(80, labelWidth + 18), top: 44, width: 440, height: Double(count) * Self.rowHeight)
    }

    /// The SVG (nil when no bar has a finite value) and notes on the bars left out.
    public func render() -> (svg: String?, notes: [String]) {
        let drawn = bars.filter(\.value.isFinite)
        let notes = bars.filter { !$0.value.isFinite }.map { "\($0.label): \(ReportFormat.score($0.value)), no bar drawn" }
        guard !drawn.isEmpty else { return (nil, notes) }
        let box = box(count: drawn.count)
        let scale = ChartAxes.percentScale(drawn.map(\.value))
        var parts = [SVG.text(8, 18, title, size: 13, weight: "bold")]
        parts += ChartAxes.horizontal(box, scale: scale, label: axisLabel)
        parts += [SVG.rect(box.left, 26, 12, 12, fill: Self.teacherColour), SVG.text(box.left + 18, 36, "teacher", size: 11),
                  SVG.rect(box.left + 90, 26, 12, 12, fill: Self.studentColour), SVG.text(box.left + 108, 36, "student", size: 11)]
        let zero = scale.map(max(0, scale.lower), from: box.left, to: box.right)
        for (index, bar) in drawn.enumerated() {
            let top = box.top + Double(index) * Self.rowHeight + (Self.rowHeight - Self.barHeight) / 2
            let end = scale.map(bar.value, from: box.left, to: box.right)
            let colour = bar.kind == .teacher ? Self.teacherColour : Self.studentColour
            parts.append(SVG.text(box.left - 8, top + 13, SVG.shorten(bar.label, to: Self.labelLimit), anchor: "end", size: 11))
            parts.append(SVG.rect(min(zero, end), top, abs(end - zero), Self.barHeight, fill: colour,
                                  title: "\(bar.label): \(ReportFormat.score(bar.value))"))
            parts.append(SVG.text(max(zero, end) + 4, top + 13, ReportFormat.score(bar.value), size: 10, fill: "#333"))
        }
        let width = box.right + 50
        return (SVG.document(width: width, height: box.bottom + 44, label: title, body: parts), notes)
    }
}
