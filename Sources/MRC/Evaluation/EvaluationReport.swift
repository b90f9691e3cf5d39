import Foundation

/// The scores of one predictions file on several datasets, with MRQA's group macro-averages.
public struct EvaluationReport: Sendable {
    /// An unweighted mean over a group of datasets (MRQA's in-domain / out-of-domain averages).
    public struct GroupScore: Sendable {
        public var name: String
        public var datasets: [String]
        public var exactMatch: Double
        public var f1: Double
    }

    public var predictionsFile: String
    public var datasets: [DatasetScore]
    public var groups: [GroupScore]

    /// - Parameter groups: group name → dataset names, in output order; empty groups are left out.
    public init(predictionsFile: String, datasets: [DatasetScore], groups: [(name: String, datasets: [String])]) {
        self.predictionsFile = predictionsFile
        self.datasets = datasets
        self.groups = groups.compactMap { group in
            let members = datasets.filter { group.datasets.contains($0.name) }
            guard !members.isEmpty else { return nil }
            // Summed in dataset order, then divided: the unweighted macro-average.
            var exactMatch = 0.0
            var f1 = 0.0
            for member in members { exactMatch += member.exactMatch; f1 += member.f1 }
            return GroupScore(name: group.name, datasets: members.map(\.name),
                              exactMatch: exactMatch / Double(members.count), f1: f1 / Double(members.count))
        }
    }

    /// A readable table: one row per dataset, then the group averages.
    public var table: String {
        "predictions: \(predictionsFile)\n" + Self.render([Self.header] + rows)
    }

    /// One table for several predictions files on the same data: a first column names the predictions
    /// (file name without extension), as in a leaderboard.
    public static func table(_ reports: [EvaluationReport]) -> String {
        var rows = [["predictions"] + header]
        for report in reports {
            let name = DataFile.stem(of: URL(fileURLWithPath: report.predictionsFile))
            for (index, row) in report.rows.enumerated() { rows.append([index == 0 ? name : ""] + row) }
        }
        return render(rows)
    }

    static let header = ["dataset", "format", "EM", "F1", "questions", "unanswered"]

    var rows: [[String]] {
        var rows: [[String]] = []
        for score in datasets {
            rows.append([score.name, score.format.rawValue, Self.percent(score.exactMatch), Self.percent(score.f1),
                         "\(score.count)", "\(score.missing)"])
            if let v2 = score.squad2 {
                if let has = v2.hasAnswer {
                    rows.append(["  HasAns", "", Self.percent(has.exactMatch), Self.percent(has.f1), "\(has.count)", ""])
                }
                if let no = v2.noAnswer {
                    rows.append(["  NoAns", "", Self.percent(no.exactMatch), Self.percent(no.f1), "\(no.count)", ""])
                }
                if let best = v2.best {
                    rows.append(["  best (thresholds \(best.exactThreshold), \(best.f1Threshold))", "",
                                 Self.percent(best.exactMatch), Self.percent(best.f1), "", ""])
                }
                let threshold = score.nullScoreThreshold.map { " at null-score threshold \($0)" } ?? ""
                rows.append(["  abstained\(threshold)", "", "", "", "\(v2.abstained)", ""])
            }
        }
        for group in groups {
            rows.append(["\(group.name) macro-average (\(group.datasets.count))", "", Self.percent(group.exactMatch),
                         Self.percent(group.f1), "", ""])
        }
        return rows
    }

    /// Columns padded to their widest cell; numbers right-aligned (the last four columns).
    static func render(_ rows: [[String]]) -> String {
        let columns = rows[0].count
        let widths = (0..<columns).map { column in rows.map { $0[column].count }.max()! }
        var lines: [String] = []
        for (index, row) in rows.enumerated() {
            let cells = row.enumerated().map { column, cell in
                column < columns - 4
                    ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }
            lines.append(cells.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
            if index == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        return lines.joined(separator: "\n")
    }

    static func percent(_ value: Double) -> String { String(format: "%.2f", value) }

    /// One JSON object: `datasets` maps each dataset name to `{"exact_match", "f1", "count", ...}`
    /// (SQuAD v2.0 adds the official script's HasAns/NoAns/best keys, `abstained` and `abstained_share` — the
    /// questions answered "no answer", a count and a percentage — and for a model's predictions the
    /// `null_score_threshold` they were decided at, with `threshold_from`, the file it was searched on), then one entry per group
    /// (`in_domain`, `out_of_domain`) with its macro-averaged `exact_match` and `f1`. Numbers are
    /// printed with full round-trip precision.
    public var json: String {
        var datasetEntries: [(String, JSONText)] = []
        for score in datasets {
            var fields: [(String, JSONText)] = [
                ("exact_match", .number(score.exactMatch)), ("f1", .number(score.f1)), ("count", .integer(score.count)),
                ("unanswered", .integer(score.missing)), ("format", .string(score.format.rawValue)),
                ("file", .string(score.file)),
            ]
            if let v2 = score.squad2 {
                if let has = v2.hasAnswer {
                    fields += [("HasAns_exact", .number(has.exactMatch)), ("HasAns_f1", .number(has.f1)),
                               ("HasAns_total", .integer(has.count))]
                }
                if let no = v2.noAnswer {
                    fields += [("NoAns_exact", .number(no.exactMatch)), ("NoAns_f1", .number(no.f1)),
                               ("NoAns_total", .integer(no.count))]
                }
                if let best = v2.best {
                    fields += [("best_exact", .number(best.exactMatch)), ("best_exact_thresh", .number(best.exactThreshold)),
                               ("best_f1", .number(best.f1)), ("best_f1_thresh", .number(best.f1Threshold))]
                }
                fields += [("abstained", .integer(v2.abstained)),
                           ("abstained_share", .number(score.count > 0 ? 100.0 * Double(v2.abstained) / Double(score.count) : 0))]
            }
            if let threshold = score.nullScoreThreshold {
                fields.append(("null_score_threshold", .number(threshold)))
                if let source = score.thresholdSource { fields.append(("threshold_from", .string(source))) }
            }
            datasetEntries.append((score.name, .object(fields)))
        }
        var root: [(String, JSONText)] = [("predictions", .string(predictionsFile)), ("datasets", .object(datasetEntries))]
        for group in groups {
            root.append((group.name, .object([("exact_match", .number(group.exactMatch)), ("f1", .number(group.f1)),
                                              ("datasets", .array(group.datasets.map { .string($0) }))])))
        }
        return JSONText.object(root).rendered
    }
}
