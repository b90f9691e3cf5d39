import ArgumentParser
import Foundation
import Kernels
import Text
import Training

/// `mrc-distill predict`: answers the questions of data files with a span-QA model.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict answers with a span-QA model; writes predictions.json, nbest_predictions.json and eval.json.",
        discussion: """
            With one --data file the files go into OUT; with several, into OUT/<file name>/. Every file's \
            EM/F1 against its gold answers (official SQuAD v1.1 / MRQA semantics) is printed and written \
            to OUT/eval.json.
            """)

    @OptionGroup var model: ModelOptions
    @Option(name: .long, parsing: .upToNextOption, help: "Data files: SQuAD .json or MRQA .jsonl[.gz].")
    var data: [String]
    @Option(name: .long, help: "Output directory.")
    var out: String
    @OptionGroup var windows: WindowOptions
    @Option(name: .customLong("batch-size"), help: "Windows per forward pass.") var batchSize = 32
    @OptionGroup var precision: InferencePrecisionOptions
    @OptionGroup var dataOptions: DataOptions

    func validate() throws {
        try windows.validateWindows()
        try refuse {
            _ = try Preflight.checkModel(model.modelURL, maxSequenceLength: windows.maxSeqLen, layers: try model.parsedLayers(),
                                         weightsFile: model.ema ? "ema.safetensors" : "model.safetensors")
            try Preflight.checkFiles(data.map(URL.init(fileURLWithPath:)), option: "--data")
            guard batchSize > 0 else { throw TrainingError.invalidArgument("--batch-size must be positive") }
        }
    }

    func run() async throws {
        let trainable = try BertSpanTrainable(directory: model.modelURL, layers: try model.parsedLayers(),
                                              weightsFile: model.ema ? "ema.safetensors" : nil)
        if !trainable.initialised.isEmpty {
            report("warning: \(model.model) has no span head; predicting with an untrained one (\(trainable.initialised.joined(separator: ", ")))")
        }
        trainable.model.precision = precision.precision
        announce(precision.precision)
        let tokenizer = try WordPieceTokenizer(vocabFile: model.modelURL.appendingPathComponent("vocab.txt"),
                                               lowercase: trainable.doLowerCase)
        let predictor = try Predictor(model: trainable.model, tokenizer: tokenizer, windowSettings: windows.windowSettings,
                                      decoderSettings: windows.decoderSettings, batchSize: batchSize)
        predictor.strict = dataOptions.strict
        // A stopped run resumes after its last finished chunk when the model, its weights and the settings are the same.
        let weights = model.modelURL.appendingPathComponent(model.ema ? "ema.safetensors" : "model.safetensors")
        predictor.runFingerprint = [Predictor.identity(of: weights), model.layers ?? "all", precision.precision.rawValue]
            .joined(separator: "|")
        predictor.resumeLog = report
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let evaluation = try predictor.predictAll(files: data.map(URL.init(fileURLWithPath:)), out: outURL, log: report)
        print(evaluation.table)
    }
}
