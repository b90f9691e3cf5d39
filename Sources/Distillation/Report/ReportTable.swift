/// The report's tables as cells of text, shared by the Markdown and the HTML renderings.
public struct ReportTable: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]
    /// Which columns hold numbers (right-aligned).
    public var numeric: [Bool]

    /// The summary: one line per row.
    public static func summary(_ rows: [ReportRow]) -> ReportTable {
        ReportTable(
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

    /// The out-of-domain F1 per dataset, one column per dataset any row has; nil when no row has one.
    public static func outOfDomain(_ rows: [ReportRow]) -> ReportTable? {
        let datasets = outOfDomainDatasets(rows)
        guard !datasets.isEmpty else { return nil }
        return ReportTable(
            header: ["name"] + datasets + ["macro-F1"],
            rows: rows.map { row in
                [row.name] + datasets.map { ReportFormat.score(row.oodF1[$0]) } + [ReportFormat.score(row.oodMacroF1)]
            },
            numeric: [false] + Array(repeating: true, count: datasets.count + 1))
    }

    /// Every out-of-domain dataset of the rows, sorted by name.
    public static func outOfDomainDatasets(_ rows: [ReportRow]) -> [String] {
        Set(rows.flatMap(\.oodF1.keys)).sorted()
    }
}
