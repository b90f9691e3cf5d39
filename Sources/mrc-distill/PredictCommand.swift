import ArgumentParser
import Foundation
import Kernels
import Text
import Training

/// `mrc-distill predict`: answers the questions of data files with a span-QA model.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict answers with a span-QA model or an ensemble; writes predictions.json, nbest_predictions.json and eval.json.",
        discussion: """
            With one --data file the files go into OUT; with several, into OUT/<file name>/. Every file's \
            EM/F1 against its gold answers (official SQuAD v1.1 / MRQA semantics) is printed and written \
            to OUT/eval.json. With --model repeated, the members score the same windows and their start/end \
            logits are combined (--combine, weights as DIR:WEIGHT) before the one span decoder: the files, \
            scores and timing are those of one system. On SQuAD 2.0 data the model abstains where null score − best \
            span score exceeds --null-score-threshold (default 0), null_odds.json is written and eval.json has the \
            official HasAns/NoAns/best keys; --null-score-threshold best --threshold-data FILE predicts FILE first \
            (into OUT/threshold-data) and applies its official best_f1_thresh.
            """)

    @OptionGroup var model: EnsembleOptions
    @Option(name: .long, parsing: .upToNextOption, help: "Data files: SQuAD .json or MRQA .jsonl[.gz].")
    var data: [String]
    @Option(name: .long, help: "Output directory.")
    var out: String
    @OptionGroup var windows: WindowOptions
    @OptionGroup var thresholdSearch: ThresholdSearchOptions
    @Option(name: .customLong("batch-size"), help: "Windows per forward pass.") var batchSize = 32
    @OptionGroup var precision: InferencePrecisionOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var estimate: EstimateOptions

    func validate() throws {
        try windows.validateWindows(searchable: true)
        try thresholdSearch.validate(with: windows.nullScoreThreshold)
        guard !model.models.isEmpty else { throw ValidationError("give --model DIR (repeat it for an ensemble)") }
        try model.validate(maxSequenceLength: windows.maxSeqLen)
        try refuse {
            try Preflight.checkFiles(data.map(URL.init(fileURLWithPath:)), option: "--data")
            guard batchSize > 0 else { throw TrainingError.invalidArgument("--batch-size must be positive") }
        }
    }

    func run() async throws {
        let loaded = try model.load(precision: precision.precision, batchSize: batchSize)
        for directory in loaded.untrainedHeads {
            report("warning: \(directory) has no span head; predicting with an untrained one (qa_outputs.weight, qa_outputs.bias)")
        }
        announce(precision.precision, models: try model.members().map(\.path))
        let baseline = RunEstimate.residentBytes
        let predictor = try loaded.predictor(windows: windows)
        predictor.strict = dataOptions.strict
        if try estimate.tell({
            let done = RunEstimate.loaded
            let (lengths, reading) = try RunEstimate.timed {
                try predictor.builder.windowLengths(files: data.map(URL.init(fileURLWithPath:)), strict: dataOptions.strict)
            }
            let inference = RunEstimate.inference(models: loaded.scorer.models.map(\.config), lengths: lengths, batchSize: batchSize,
                                                  maxSeqLen: windows.maxSeqLen, precision: precision.precision,
                                                  staticInt8: loaded.scorer.models.allSatisfy { $0.int8Calibration != nil })
            return RunEstimate(command: "predict", windows: lengths.count,
                               phases: [done, .init(name: "reading and windowing", seconds: reading),
                                        .init(name: "scoring", seconds: inference.seconds)],
                               peakBytes: baseline + inference.workingBytes, basis: inference.basis)
        }) { return }
        // A stopped run resumes after its last finished chunk when the models, their weights and the settings are the same.
        predictor.runFingerprint = loaded.fingerprint
        predictor.resumeLog = report
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        if let file = thresholdSearch.url {
            try predictor.useBestThreshold(from: file, scratch: outURL.appendingPathComponent("threshold-data"), log: report)
        }
        let evaluation = try predictor.predictAll(files: data.map(URL.init(fileURLWithPath:)), out: outURL, log: report)
        print(evaluation.table)
    }
}
