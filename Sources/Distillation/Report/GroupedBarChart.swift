/// A vertical grouped bar chart: one group per dataset, one bar per row in the row's colour, with a legend.
public struct GroupedBarChart: Sendable {
    public var title: String
    public var axisLabel: String
    /// Group names (datasets), in order.
    public var groups: [String]
    /// Series names (rows), in order; `values[series][group]`, nil where the row has no score.
    public var series: [String]
    public var values: [[Double?]]

    public init(title: String, axisLabel: String, groups: [String], series: [String], values: [[Double?]]) {
        precondition(values.count == series.count && values.allSatisfy { $0.count == groups.count },
                     "a grouped bar chart needs one value per series and group")
        self.title = title; self.axisLabel = axisLabel; self.groups = groups; self.series = series; self.values = values
    }

    /// The out-of-domain F1 of the rows per dataset.
    public static func outOfDomain(_ rows: [ReportRow]) -> GroupedBarChart {
        let datasets = ReportTable.outOfDomainDatasets(rows)
        return GroupedBarChart(title: "Out-of-domain F1 per dataset", axisLabel: "F1 (%)", groups: datasets,
                               series: rows.map(\.name), values: rows.map { row in datasets.map { row.oodF1[$0] } })
    }

    /// The plotting area's widest extent, so that chart and legend fit a page about 1,000 units wide.
    static let maximumPlotWidth = 680.0
    static let groupGap = 14.0

    /// Bars are 22 units wide at most, narrower (down to 3) when many rows × datasets must fit.
    var barWidth: Double {
        let available = Self.maximumPlotWidth / Double(max(1, groups.count)) - Self.groupGap
        return min(22, max(3, available / Double(max(1, series.count))))
    }

    /// The plotting area.
    public var box: PlotBox {
        let groupWidth = barWidth * Double(series.count) + Self.groupGap
        return PlotBox(left: 60, top: 34, width: max(260, groupWidth * Double(groups.count)), height: 240)
    }

    /// The SVG (nil when there is no finite value) and notes on the values left out.
    public func render() -> (svg: String?, notes: [String]) {
        var notes: [String] = []
        var finite: [Double] = []
        for (seriesIndex, row) in values.enumerated() {
            for (groupIndex, value) in row.enumerated() {
                guard let value else { continue }
                if value.isFinite { finite.append(value) } else {
                    notes.append("\(series[seriesIndex]) on \(groups[groupIndex]): \(ReportFormat.score(value)), no bar drawn")
                }
            }
        }
        guard !finite.isEmpty else { return (nil, notes) }
        let box = box
        let scale = ChartAxes.percentScale(finite)
        let groupWidth = box.width / Double(groups.count)
        var parts = [SVG.text(8, 18, title, size: 13, weight: "bold")]
        parts += ChartAxes.vertical(box, scale: scale, label: axisLabel)
        let zero = scale.map(max(0, scale.lower), from: box.bottom, to: box.top)
        for (groupIndex, group) in groups.enumerated() {
            let groupLeft = box.left + Double(groupIndex) * groupWidth
            let barsLeft = groupLeft + (groupWidth - barWidth * Double(series.count)) / 2
            for (seriesIndex, name) in series.enumerated() {
                guard let value = values[seriesIndex][groupIndex], value.isFinite else { continue }
                let top = scale.map(value, from: box.bottom, to: box.top)
                parts.append(SVG.rect(barsLeft + Double(seriesIndex) * barWidth + 0.5, min(zero, top), barWidth - 1,
                                      abs(zero - top), fill: SVG.colour(seriesIndex),
                                      title: "\(name) on \(group): \(ReportFormat.score(value))"))
            }
            parts.append(SVG.text(groupLeft + groupWidth / 2, box.bottom + 16, SVG.shorten(group, to: Int(groupWidth / 6.4)),
                                  anchor: "middle", size: 11))
        }
        parts.append(SVG.line(box.left, zero, box.right, zero, stroke: ChartAxes.ink))
        parts += ChartAxes.legend(x: box.right + 20, y: box.top,
                                  entries: series.enumerated().map { ($0.element, SVG.colour($0.offset)) }, limit: 40)
        let width = box.right + 20 + 18 + 40 * 6.4 + 10
        let height = max(box.bottom + 30, box.top + Double(series.count) * 18 + 10)
        return (SVG.document(width: width, height: height, label: title, body: parts), notes)
    }
}
