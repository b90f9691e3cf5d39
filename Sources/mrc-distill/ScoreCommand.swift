import ArgumentParser
import Distillation
import Foundation
import Training

/// `mrc-distill score`: one row of a distillation report — a model (or a black-box prediction file)
/// scored on the in-domain file and the out-of-domain files, with its size, inference speed and costs.
struct ScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a model or a black-box prediction file and append the row to a report's rows.jsonl.",
        discussion: """
            The first --data file is the in-domain set (SQuAD dev columns), the others out-of-domain. A model is \
            predicted batched (its prediction files go to --out) and its inference tokens/s measured; a prediction \
            file (--predictions, one per --data file) is scored as it is. `mrc-distill report --rows` renders the rows.
            """)

    @Option(help: "Row name.") var name: String
    @Option(help: "teacher or student.") var kind: String = "student"
    @Option(help: "The model directory.") var model: String?
    @Flag(help: "Use the EMA weights (ema.safetensors).") var ema = false
    @Option(parsing: .upToNextOption, help: "Black-box prediction files instead of a model, one per --data file.")
    var predictions: [String] = []
    @Option(parsing: .upToNextOption, help: "Data files: in-domain first, then out-of-domain.") var data: [String]
    @Option(help: "Where a model's prediction files go.") var out: String?
    @Option(help: "The rows.jsonl to append to.") var rows: String
    @Option(help: "The command that made the model (shown in the report).") var command: String = ""
    @Option(name: .customLong("teach-seconds")) var teachSeconds: Double?
    @Option(name: .customLong("train-seconds")) var trainSeconds: Double?
    @Option(help: "The run's metrics.jsonl (loss curves).") var metrics: String?
    @OptionGroup var windows: WindowOptions

    func validate() throws {
        guard ReportRow.Kind(rawValue: kind) != nil else { throw ValidationError("--kind must be teacher or student") }
        guard (model == nil) != predictions.isEmpty else { throw ValidationError("give --model or --predictions") }
        guard predictions.isEmpty || predictions.count == data.count else {
            throw ValidationError("one --predictions file per --data file")
        }
    }

    func run() async throws {
        let files = data.map(URL.init(fileURLWithPath:))
        let row: ReportRow
        if let model {
            let directory = URL(fileURLWithPath: model)
            let scores = try scoreModel(directory, ema: ema, files: files, windows: windows,
                                        out: URL(fileURLWithPath: out ?? directory.appendingPathComponent("eval").path))
            row = ReportRow(name: name, kind: ReportRow.Kind(rawValue: kind)!, command: command, scores: scores.datasets,
                            parameters: scores.parameters, tokensPerSecond: scores.tokensPerSecond, teachSeconds: teachSeconds,
                            distillSeconds: trainSeconds, model: model, metrics: metrics)
        } else {
            let scores = try zip(predictions, files).map { try scoreBlackBox(URL(fileURLWithPath: $0), on: $1) }
            row = ReportRow(name: name, kind: ReportRow.Kind(rawValue: kind)!, command: command, scores: scores,
                            teachSeconds: teachSeconds, distillSeconds: trainSeconds, metrics: metrics)
        }
        try appendRows([row], to: URL(fileURLWithPath: rows))
        print(String(format: "%@: EM %.2f F1 %.2f%@", name, row.squadEM, row.squadF1,
                     row.oodMacroF1.map { String(format: ", out-of-domain macro-F1 %.2f", $0) } ?? ""))
    }
}
