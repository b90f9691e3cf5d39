/// The report's tables as cells of text, shared by the Markdown and the HTML renderings.
public struct ReportTable: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]
    /// Which columns hold numbers (right-aligned).
    public var numeric: [Bool]

    /// Whether the rows follow MRQA's protocol (several in-domain datasets): D-NET's table shape.
    public static func isMRQA(_ rows: [ReportRow]) -> Bool { rows.contains { $0.inDomainF1.count > 1 } }

    /// The summary: one line per row. Under MRQA's protocol (`isMRQA`), D-NET's shape: the macro-F1 of each
    /// group, the F1 of every dataset (in-domain first), then the costs: inference seconds per 1,000
    /// questions, labelling and training seconds.
    public static func summary(_ rows: [ReportRow]) -> ReportTable {
        if isMRQA(rows) { return mrqaSummary(rows) }
        if isSQuAD2(rows) { return squad2Summary(rows) }
        return ReportTable(
            header: ["name", "kind", "SQuAD dev EM", "SQuAD dev F1", "out-of-domain macro-F1", "parameters",
                     "inference tokens/s", "teach s", "train s"],
            rows: rows.map { row in
                [row.name, row.kind.rawValue, ReportFormat.score(row.squadEM), ReportFormat.score(row.squadF1),
                 ReportFormat.score(row.oodMacroF1), ReportFormat.parameters(row.parameters),
                 ReportFormat.quantity(row.tokensPerSecond), ReportFormat.quantity(row.teachSeconds),
                 ReportFormat.quantity(row.distillSeconds)]
            },
            numeric: [false, false] + Array(repeating: true, count: 7))
    }

    static func mrqaSummary(_ rows: [ReportRow]) -> ReportTable {
        let inDomain = inDomainDatasets(rows), outOfDomain = outOfDomainDatasets(rows)
        return ReportTable(
            header: ["name", "kind", "in-domain macro-F1", "out-of-domain macro-F1"] + inDomain + outOfDomain
                + ["parameters", "inference s / 1k questions", "teach s", "train s"],
            rows: rows.map { row in
                [row.name, row.kind.rawValue, ReportFormat.score(row.inDomainMacroF1), ReportFormat.score(row.oodMacroF1)]
                    + inDomain.map { ReportFormat.score(row.inDomainF1[$0]) } + outOfDomain.map { ReportFormat.score(row.oodF1[$0]) }
                    + [ReportFormat.parameters(row.parameters), ReportFormat.quantity(row.secondsPer1kQuestions),
                       ReportFormat.quantity(row.teachSeconds), ReportFormat.quantity(row.distillSeconds)]
            },
            numeric: [false, false] + Array(repeating: true, count: 2 + inDomain.count + outOfDomain.count + 4))
    }

    /// What the SQuAD 2.0 columns mean (a note under the summary).
    public static let squad2Note = "SQuAD 2.0: EM, F1, HasAns F1 (answerable questions), NoAns F1 (unanswerable ones) and NoAns "
        + "share (questions answered \"no answer\") are at the row's null-score threshold (the model abstains where null score − "
        + "best span score exceeds it); best F1 is the official best over thresholds. A student whose NoAns share is far "
        + "from its teacher's at the same threshold has collapsed toward (or away from) abstaining."

    /// Whether the rows are scored on SQuAD 2.0 data (not under MRQA's protocol): the summary then has the
    /// no-answer columns.
    public static func isSQuAD2(_ rows: [ReportRow]) -> Bool { !isMRQA(rows) && rows.contains { $0.squad2 != nil } }

    /// The SQuAD 2.0 summary: EM and F1 at each row's null-score threshold, HasAns and NoAns F1, the share of
    /// questions answered "no answer" (the collapse check), the threshold, the official best F1, then the costs.
    static func squad2Summary(_ rows: [ReportRow]) -> ReportTable {
        ReportTable(
            header: ["name", "kind", "dev EM", "dev F1", "HasAns F1", "NoAns F1", "NoAns share %", "null-score threshold",
                     "best F1", "parameters", "inference tokens/s", "teach s", "train s"],
            rows: rows.map { row in
                let v2 = row.squad2
                return [row.name, row.kind.rawValue, ReportFormat.score(row.squadEM), ReportFormat.score(row.squadF1),
                        ReportFormat.score(v2?.hasAnswerF1), ReportFormat.score(v2?.noAnswerF1), ReportFormat.score(v2?.noAnswerShare),
                        ReportFormat.threshold(v2?.nullScoreThreshold), ReportFormat.score(v2?.bestF1),
                        ReportFormat.parameters(row.parameters), ReportFormat.quantity(row.tokensPerSecond),
                        ReportFormat.quantity(row.teachSeconds), ReportFormat.quantity(row.distillSeconds)]
            },
            numeric: [false, false] + Array(repeating: true, count: 11))
    }

    /// The out-of-domain F1 per dataset, one column per dataset any row has; nil when no row has one, or
    /// when the summary already has them (MRQA's protocol).
    public static func outOfDomain(_ rows: [ReportRow]) -> ReportTable? {
        let datasets = outOfDomainDatasets(rows)
        guard !datasets.isEmpty, !isMRQA(rows) else { return nil }
        return ReportTable(
            header: ["name"] + datasets + ["macro-F1"],
            rows: rows.map { row in
                [row.name] + datasets.map { ReportFormat.score(row.oodF1[$0]) } + [ReportFormat.score(row.oodMacroF1)]
            },
            numeric: [false] + Array(repeating: true, count: datasets.count + 1))
    }

    /// Every in-domain dataset of the rows, sorted by name.
    public static func inDomainDatasets(_ rows: [ReportRow]) -> [String] {
        Set(rows.flatMap(\.inDomainF1.keys)).sorted()
    }

    /// Every out-of-domain dataset of the rows, sorted by name.
    public static func outOfDomainDatasets(_ rows: [ReportRow]) -> [String] {
        Set(rows.flatMap(\.oodF1.keys)).sorted()
    }
}
