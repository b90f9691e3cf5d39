import Foundation

/// The distillation experiment report: the ablation's rows (teachers, ensembles, students) with
/// their scores and costs, and each run's loss curves, as Markdown and as a self-contained HTML page.
public struct DistillationReport: Sendable {
    /// One row and what its metrics log holds.
    public struct Entry: Sendable {
        public var row: ReportRow
        /// The loss curves of the row's `metrics.jsonl` (empty without one).
        public var lossCurves: [LossSeries]
        /// Why the row has no curves although it names a metrics file (e.g. the file is missing).
        public var metricsNote: String?

        public init(row: ReportRow, lossCurves: [LossSeries] = [], metricsNote: String? = nil) {
            self.row = row; self.lossCurves = lossCurves; self.metricsNote = metricsNote
        }
    }

    public static let defaultSmoothing = 20

    public var title: String
    public var entries: [Entry]
    /// The window of the loss curves' trailing moving average, in logged steps.
    public var smoothing: Int

    public init(title: String, entries: [Entry], smoothing: Int = DistillationReport.defaultSmoothing) {
        self.title = title
        self.entries = entries
        self.smoothing = max(1, smoothing)
    }

    public var rows: [ReportRow] { entries.map(\.row) }

    /// Reads `rows.jsonl` and every metrics log its rows name (a relative path is taken relative to
    /// the rows file's folder). A metrics file that does not exist becomes a note in the report; one
    /// that cannot be parsed is an error naming its file and line.
    public static func load(rowsFile: URL, title: String, smoothing: Int = defaultSmoothing) throws -> DistillationReport {
        let rows = try ReportRows.read(rowsFile)
        let folder = rowsFile.deletingLastPathComponent()
        let entries = try rows.map { row -> Entry in
            guard let path = row.metrics, !path.isEmpty else { return Entry(row: row) }
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
            guard FileManager.default.fileExists(atPath: url.path) else {
                return Entry(row: row, metricsNote: "metrics file \(path) not found")
            }
            return Entry(row: row, lossCurves: try LossCurves.read(url))
        }
        return DistillationReport(title: title, entries: entries, smoothing: smoothing)
    }

    /// The Markdown report: summary table, out-of-domain table, commands.
    public var markdown: String { MarkdownReport.render(title: title, rows: rows) }

    /// The HTML page: the same tables and the charts, with inline CSS and SVG only.
    public var html: String { HTMLReport.render(self) }

    /// Writes `report.md` and `report.html` into `directory` (created if needed); returns their URLs.
    @discardableResult
    public func write(to directory: URL) throws -> (markdown: URL, html: URL) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let markdownURL = directory.appendingPathComponent("report.md")
        let htmlURL = directory.appendingPathComponent("report.html")
        try Data(markdown.utf8).write(to: markdownURL, options: .atomic)
        try Data(html.utf8).write(to: htmlURL, options: .atomic)
        return (markdownURL, htmlURL)
    }

    /// The loss charts of an entry: one per task (a task's terms share a scale; tasks need not).
    public func lossCharts(_ entry: Entry) -> [LineChart] {
        var tasks: [String] = []
        for series in entry.lossCurves where !tasks.contains(series.task) { tasks.append(series.task) }
        return tasks.map { task in
            let title = tasks.count == 1 && task.isEmpty ? "\(entry.row.name): loss" : "\(entry.row.name): \(task.isEmpty ? "loss" : task) loss"
            return LineChart(title: title, series: entry.lossCurves.filter { $0.task == task }, smoothing: smoothing)
        }
    }
}
