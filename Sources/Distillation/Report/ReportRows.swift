import Foundation

/// Reads `rows.jsonl`: one `ReportRow` per non-blank line.
public enum ReportRows {
    /// Parses the text of a rows file; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws -> [ReportRow] {
        try JSONLines.decode(ReportRow.self, from: text, file: file, what: "a report row")
    }

    /// Reads a rows file.
    public static func read(_ url: URL) throws -> [ReportRow] {
        try parse(try JSONLines.readText(url), file: url.path)
    }
}
