import Foundation

/// One loss term of one task over the optimizer steps of a run.
public struct LossSeries: Sendable, Equatable {
    /// "mrc", "mlm", … ; "" when the metrics lines name no task.
    public var task: String
    /// A key of the lines' `terms` ("hard", "soft", "total", "mlm", …), or "loss" for lines without terms.
    public var term: String
    public var steps: [Int]
    public var values: [Double]

    public init(task: String, term: String, steps: [Int], values: [Double]) {
        precondition(steps.count == values.count, "a loss series needs one step per value")
        self.task = task; self.term = term; self.steps = steps; self.values = values
    }

    /// "task: term", or the term alone for a run without tasks.
    public var label: String { task.isEmpty ? term : "\(task): \(term)" }
}

/// Reads the loss curves of a `metrics.jsonl`, on its own minimal view of a line (`step`, `loss`,
/// and the optional `task` and `terms`), so that it reads logs written before and after those
/// optional fields exist.
public enum LossCurves {
    /// The part of a metrics line the report plots.
    struct Line: Decodable {
        var step: Int
        var loss: Double
        var task: String?
        var terms: [String: Double]?
    }

    /// Parses the text of a metrics log; `file` names it in errors.
    ///
    /// Series come grouped by task (in order of first appearance), then by term (in order of first
    /// appearance within the task, "total" last). A line with `terms` adds one point to each of
    /// its terms; a line without adds its `loss` as the term "loss". Non-finite values are kept.
    public static func parse(_ text: String, file: String) throws -> [LossSeries] {
        let lines = try JSONLines.decode(Line.self, from: text, file: file, what: "a metrics record")
        var series: [LossSeries] = []
        var index: [String: Int] = [:]
        for line in lines {
            let task = line.task ?? ""
            var terms: [(String, Double)] = line.terms.map { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
                ?? [("loss", line.loss)]
            // Dictionary order is not the file's: sort, then move "total" to the end of the legend.
            terms.sort { ($0.0 == "total" ? 1 : 0, $0.0) < ($1.0 == "total" ? 1 : 0, $1.0) }
            for (term, value) in terms {
                let key = task + "\u{0}" + term
                if index[key] == nil {
                    index[key] = series.count
                    series.append(LossSeries(task: task, term: term, steps: [], values: []))
                }
                series[index[key]!].steps.append(line.step)
                series[index[key]!].values.append(value)
            }
        }
        // Keep each task's series together, in order of the task's first appearance.
        var taskOrder: [String] = []
        for item in series where !taskOrder.contains(item.task) { taskOrder.append(item.task) }
        return taskOrder.flatMap { task in series.filter { $0.task == task } }
    }

    /// Reads a metrics log.
    public static func read(_ url: URL) throws -> [LossSeries] {
        try parse(try JSONLines.readText(url), file: url.path)
    }
}
