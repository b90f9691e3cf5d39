import Foundation

/// How the report writes numbers: the same text in the Markdown and the HTML tables.
public enum ReportFormat {
    /// The placeholder of a missing value.
    public static let missing = "—"

    /// A score (percent) with 2 decimals; "—" when absent, "nan"/"inf" when not finite.
    public static func score(_ value: Double?) -> String {
        guard let value else { return missing }
        return finite(value) ?? String(format: "%.2f", value)
    }

    /// A parameter count in units: "22.7 M", "1.10 B", "950 k", "512".
    public static func parameters(_ count: Int?) -> String {
        guard let count else { return missing }
        let value = Double(count)
        switch abs(value) {
        case 1e9...: return String(format: "%.2f B", value / 1e9)
        case 1e6...: return String(format: "%.1f M", value / 1e6)
        case 1e3...: return String(format: "%.0f k", value / 1e3)
        default: return "\(count)"
        }
    }

    /// A rate or a duration: no decimals from 100 up, one decimal below.
    public static func quantity(_ value: Double?) -> String {
        guard let value else { return missing }
        if let text = finite(value) { return text }
        return String(format: abs(value) >= 100 ? "%.0f" : "%.1f", value)
    }

    /// A null-score threshold (a difference of logits): 3 significant digits; "—" when absent.
    public static func threshold(_ value: Double?) -> String {
        guard let value else { return missing }
        return finite(value) ?? String(format: "%.3g", value)
    }

    /// A plot tick label: as few decimals as the tick step needs.
    static func tick(_ value: Double, step: Double) -> String {
        let decimals = step >= 1 ? 0 : min(6, Int((-log10(step)).rounded(.up)))
        let text = String(format: "%.\(decimals)f", value)
        return text == "-0" ? "0" : text
    }

    /// "nan", "inf" or "-inf" for a non-finite value, nil for a finite one.
    static func finite(_ value: Double) -> String? {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return nil
    }
}
