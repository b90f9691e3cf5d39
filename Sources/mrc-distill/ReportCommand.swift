import ArgumentParser
import Distillation
import Foundation

/// `mrc-distill report`: the distillation experiment report from the recipe's rows.jsonl.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the distillation report (report.md, report.html) from the ablation's rows.jsonl.",
        discussion: """
            rows.jsonl holds one JSON object per row: {"name", "kind": "teacher"|"student", "command", "squad_em", \
            "squad_f1", and optionally "ood_f1": {dataset: f1}, "parameters", "tokens_per_second", "teach_seconds", \
            "distill_seconds", "model", "metrics", "notes"}. A row's "metrics" (a metrics.jsonl, relative to the rows \
            file's folder unless absolute) gives its loss curves. The HTML page is self-contained (inline CSS and SVG). \
            The Markdown is also printed.
            """)

    @Option(name: .long, help: ArgumentHelp("The ablation's rows, one JSON object per line.", valueName: "rows.jsonl"))
    var rows: String

    @Option(name: .long, help: ArgumentHelp("Output directory (created if needed).", valueName: "dir"))
    var out: String

    @Option(name: .long, help: "The report's title.")
    var title = "Distillation report"

    @Option(name: .long, help: "Window of the loss curves' trailing moving average, in logged steps.")
    var smoothing = DistillationReport.defaultSmoothing

    func validate() throws {
        guard smoothing >= 1 else { throw ValidationError("--smoothing must be at least 1") }
        guard FileManager.default.fileExists(atPath: rows) else { throw ValidationError("no such file: \(rows)") }
    }

    func run() throws {
        // A ReportError (file, line, why) propagates as the parser's "Error: ..." line.
        let distillationReport = try DistillationReport.load(rowsFile: URL(fileURLWithPath: rows), title: title,
                                                             smoothing: smoothing)
        let written = try distillationReport.write(to: URL(fileURLWithPath: out))
        print(distillationReport.markdown, terminator: "")
        report("wrote \(written.markdown.path) and \(written.html.path)")
    }
}
