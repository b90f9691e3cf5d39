/// The report in Markdown (GitHub tables).
enum MarkdownReport {
    static func render(title: String, rows: [ReportRow]) -> String {
        var lines = ["# " + inline(title), ""]
        if rows.isEmpty {
            lines.append("No rows.")
            return lines.joined(separator: "\n") + "\n"
        }
        lines += ["## Summary", ""] + table(ReportTable.summary(rows))
        lines += ["", "Scores are percentages. Out-of-domain macro-F1 is the unweighted mean of a row's per-dataset F1"
                  + (ReportTable.isMRQA(rows) ? " (in-domain macro-F1 likewise); inference s / 1k questions is predict's end-to-end wall time." : ".")
                  + (ReportTable.isSQuAD2(rows) ? " " + ReportTable.squad2Note : "")]
        if let outOfDomain = ReportTable.outOfDomain(rows) {
            lines += ["", "## Out-of-domain F1 per dataset", ""] + table(outOfDomain)
        }
        lines += ["", "## Commands", ""]
        for row in rows {
            lines.append("- **\(inline(row.name))**: " + code(row.command))
            if let notes = row.notes, !notes.isEmpty { lines.append("  - notes: " + inline(notes)) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A GitHub table: header, alignment line (numbers right-aligned), one line per row.
    static func table(_ table: ReportTable) -> [String] {
        func line(_ cells: [String]) -> String { "| " + cells.map(cell).joined(separator: " | ") + " |" }
        let alignment = "|" + table.numeric.map { $0 ? " ---: |" : " --- |" }.joined()
        return [line(table.header), alignment] + table.rows.map(line)
    }

    /// A table cell: one line, with `|` escaped.
    static func cell(_ text: String) -> String {
        inline(text).replacingOccurrences(of: "|", with: "\\|")
    }

    /// Text on one line (newlines become spaces).
    static func inline(_ text: String) -> String {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Inline code that survives backticks in the text (a longer fence than any run inside it).
    static func code(_ text: String) -> String {
        let text = inline(text)
        var longest = 0
        var run = 0
        for character in text {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: longest + 1)
        let pad = text.hasPrefix("`") || text.hasSuffix("`") ? " " : ""
        return fence + pad + text + pad + fence
    }
}
