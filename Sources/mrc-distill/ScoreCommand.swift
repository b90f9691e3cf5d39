import ArgumentParser
import Distillation
import Foundation
import Training

/// `mrc-distill score`: one row of a distillation report — a model, an ensemble of models, or a black-box
/// prediction file scored on the in-domain and out-of-domain files, with its size, inference cost and
/// the costs of making it.
struct ScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a model, an ensemble or a black-box prediction file and append the row to a report's rows.jsonl.",
        discussion: """
            Data: --data (the first file in-domain, the others out-of-domain), or --in-domain and --out-of-domain \
            (MRQA's protocol: F1 per dataset and the macro-F1 of each group). A model is predicted batched (its \
            prediction files go to --out) and its inference tokens/s and seconds per 1,000 questions measured; \
            --model repeated scores the ensemble as one system (logits combined by --combine, weights as DIR:WEIGHT), \
            its cost the members' together. A prediction file (--predictions, one per data file) is scored as it \
            is. On SQuAD 2.0 data (the first file) the row also has HasAns F1, NoAns F1, best F1 and the NoAns \
            share (questions answered "no answer") at the null-score threshold (0, a number, or best with \
            --threshold-data FILE). `mrc-distill report --rows` renders the rows.
            """)

    @Option(help: "Row name.") var name: String
    @Option(help: "teacher or student.") var kind: String = "student"
    @OptionGroup var model: EnsembleOptions
    @Option(parsing: .upToNextOption, help: "Black-box prediction files instead of a model, one per data file.")
    var predictions: [String] = []
    @Option(parsing: .upToNextOption, help: "Data files: in-domain first, then out-of-domain.") var data: [String] = []
    @Option(name: .customLong("in-domain"), parsing: .upToNextOption, help: "In-domain data files.") var inDomain: [String] = []
    @Option(name: .customLong("out-of-domain"), parsing: .upToNextOption, help: "Out-of-domain data files.")
    var outOfDomain: [String] = []
    @Option(help: "Where a model's prediction files go.") var out: String?
    @Option(help: "The rows.jsonl to append to.") var rows: String
    @Option(help: "The command that made the model (shown in the report).") var command: String = ""
    @Option(name: .customLong("teach-seconds")) var teachSeconds: Double?
    @Option(name: .customLong("train-seconds")) var trainSeconds: Double?
    @Option(help: "The run's metrics.jsonl (loss curves).") var metrics: String?
    @OptionGroup var windows: WindowOptions
    @OptionGroup var thresholdSearch: ThresholdSearchOptions
    @OptionGroup var precision: InferencePrecisionOptions
    @Option(name: .customLong("batch-size"), help: "Windows per forward pass.") var batchSize = 32

    /// The data files in order (in-domain first) and how many are in-domain.
    var files: (urls: [URL], inDomain: Int) {
        data.isEmpty ? ((inDomain + outOfDomain).map(URL.init(fileURLWithPath:)), inDomain.count)
            : (data.map(URL.init(fileURLWithPath:)), 1)
    }

    func validate() throws {
        guard ReportRow.Kind(rawValue: kind) != nil else { throw ValidationError("--kind must be teacher or student") }
        guard model.models.isEmpty != predictions.isEmpty else { throw ValidationError("give --model or --predictions") }
        guard data.isEmpty != (inDomain.isEmpty && outOfDomain.isEmpty) else {
            throw ValidationError("give --data, or --in-domain and --out-of-domain")
        }
        guard !data.isEmpty || !inDomain.isEmpty else { throw ValidationError("--in-domain needs at least one file") }
        guard predictions.isEmpty || predictions.count == files.urls.count else {
            throw ValidationError("one --predictions file per data file")
        }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        try windows.validateWindows(searchable: true)
        try thresholdSearch.validate(with: windows.nullScoreThreshold)
        if thresholdSearch.thresholdData != nil && model.models.isEmpty {
            throw ValidationError("--null-score-threshold best needs a --model (a prediction file has no null scores)")
        }
        if !model.models.isEmpty { try model.validate(maxSequenceLength: windows.maxSeqLen) }
    }

    func run() async throws {
        let (urls, inDomainCount) = files
        let row: ReportRow
        if !model.models.isEmpty {
            let loaded = try model.load(precision: precision.precision, batchSize: batchSize)
            announce(precision.precision, models: try model.members().map(\.path))
            let directory = URL(fileURLWithPath: out ?? URL(fileURLWithPath: model.models[0]).appendingPathComponent("eval").path)
            let scores = try scoreModel(loaded, files: urls, windows: windows, out: directory, thresholdData: thresholdSearch.url)
            row = ReportRow(name: name, kind: ReportRow.Kind(rawValue: kind)!, command: command, scores: scores.datasets,
                            inDomain: inDomainCount, parameters: scores.parameters, tokensPerSecond: scores.tokensPerSecond,
                            secondsPer1kQuestions: scores.secondsPer1kQuestions, teachSeconds: teachSeconds,
                            distillSeconds: trainSeconds, model: try model.members().map(\.path).joined(separator: ","),
                            metrics: metrics)
        } else {
            let scores = try zip(predictions, urls).map { try scoreBlackBox(URL(fileURLWithPath: $0), on: $1) }
            row = ReportRow(name: name, kind: ReportRow.Kind(rawValue: kind)!, command: command, scores: scores,
                            inDomain: inDomainCount, teachSeconds: teachSeconds, distillSeconds: trainSeconds, metrics: metrics)
        }
        try appendRows([row], to: URL(fileURLWithPath: rows))
        let groups = inDomainCount > 1 ? String(format: ", in-domain macro-F1 %.2f", row.inDomainMacroF1) : ""
        print(String(format: "%@: EM %.2f F1 %.2f%@%@", name, row.squadEM, row.squadF1, groups,
                     row.oodMacroF1.map { String(format: ", out-of-domain macro-F1 %.2f", $0) } ?? ""))
        if let v2 = row.squad2 { print("\(name): \(v2.summary)") }
    }
}
