/// A chart of loss curves over steps: for each series a thin line of the raw values and a thick line
/// of their trailing moving average, with axes, tick labels and a legend.
public struct LineChart: Sendable {
    public var title: String
    public var series: [LossSeries]
    /// The moving-average window, in logged points.
    public var smoothing: Int
    /// The plotting area.
    public let box = PlotBox(left: 64, top: 30, width: 500, height: 220)
    public let width = 800.0
    public let height = 300.0
    /// At most this many points per drawn line (longer series are thinned evenly after smoothing).
    public static let maximumPoints = 1000

    public init(title: String, series: [LossSeries], smoothing: Int) {
        self.title = title
        self.series = series
        self.smoothing = max(1, smoothing)
    }

    /// What is drawn: each series' finite points, smoothed, and notes on what was skipped.
    public struct Plotted: Sendable {
        public var label: String
        public var steps: [Int]
        public var raw: [Double]
        public var smoothed: [Double]
    }

    public var plotted: (series: [Plotted], notes: [String]) {
        var drawn: [Plotted] = []
        var notes: [String] = []
        for item in series {
            let finite = MovingAverage.finitePoints(steps: item.steps, values: item.values)
            if finite.values.isEmpty {
                notes.append(item.values.isEmpty ? "\(item.label): no points, skipped"
                                                 : "\(item.label): no finite values (\(item.values.count) points), skipped")
                continue
            }
            if finite.dropped > 0 {
                notes.append("\(item.label): \(finite.dropped) non-finite point\(finite.dropped == 1 ? "" : "s") (nan/inf) left out")
            }
            drawn.append(Plotted(label: item.label, steps: finite.steps, raw: finite.values,
                                 smoothed: MovingAverage.trailing(finite.values, window: smoothing)))
        }
        return (drawn, notes)
    }

    /// The axes' scales for the drawn series (nil when nothing is drawn).
    public func scales(_ drawn: [Plotted]) -> (x: NiceScale, y: NiceScale)? {
        let steps = drawn.flatMap(\.steps)
        let values = drawn.flatMap(\.raw)
        guard let firstStep = steps.min(), let lastStep = steps.max(), let low = values.min(), let high = values.max() else {
            return nil
        }
        return (NiceScale(minimum: Double(firstStep), maximum: Double(lastStep), targetTicks: 7),
                NiceScale(minimum: low, maximum: high, targetTicks: 6))
    }

    /// The SVG, or nil when no series has a finite point; and the notes on what was left out.
    public func render() -> (svg: String?, notes: [String]) {
        let (drawn, notes) = plotted
        guard let (xScale, yScale) = scales(drawn) else { return (nil, notes) }
        var parts = [SVG.text(box.left, 18, title, size: 13, weight: "bold")]
        parts += ChartAxes.vertical(box, scale: yScale, label: "loss")
        parts += ChartAxes.horizontal(box, scale: xScale, label: "step")
        for (index, item) in drawn.enumerated() {
            let colour = SVG.colour(index)
            let positions = Self.thinned(item.steps.count)
            func points(_ values: [Double]) -> [(x: Double, y: Double)] {
                positions.map { position in
                    (xScale.map(Double(item.steps[position]), from: box.left, to: box.right),
                     yScale.map(values[position], from: box.bottom, to: box.top))
                }
            }
            parts.append(SVG.polyline(points(item.raw), stroke: colour, width: 1, opacity: 0.3))
            parts.append(SVG.polyline(points(item.smoothed), stroke: colour, width: 2))
        }
        parts += ChartAxes.legend(x: box.right + 24, y: box.top, entries: drawn.enumerated().map { ($0.element.label, SVG.colour($0.offset)) })
        return (SVG.document(width: width, height: height, label: title, body: parts), notes)
    }

    /// Evenly spaced indices of at most about `maximumPoints` of `count` points, the last included.
    static func thinned(_ count: Int) -> [Int] {
        let step = max(1, (count + maximumPoints - 1) / maximumPoints)
        var positions = Array(stride(from: 0, to: count, by: step))
        if let last = positions.last, last != count - 1 { positions.append(count - 1) }
        return positions
    }
}
