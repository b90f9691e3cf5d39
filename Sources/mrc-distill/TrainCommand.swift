import ArgumentParser
import Foundation
import Text
import Training

/// `mrc-distill train`: fine-tunes a pretrained encoder with a span head on SQuAD / MRQA data.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune a span-QA model (teacher or baseline student) on SQuAD / MRQA data.",
        discussion: """
            Writes OUT/checkpoint-<step>/ every --checkpoint-every steps (Hugging Face layout plus optimizer \
            state; --resume continues exactly from the latest), OUT/metrics.jsonl (one line per step), and \
            at the end the model in OUT (config.json, model.safetensors, vocab.txt; ema.safetensors with \
            --ema-decay), then predictions and EM/F1 on each --dev file under OUT/dev.
            """)

    @OptionGroup var model: ModelOptions
    @Option(name: .long, parsing: .upToNextOption, help: "Training files: SQuAD .json or MRQA .jsonl[.gz].")
    var train: [String]
    @Option(name: .long, parsing: .upToNextOption, help: "Dev files evaluated after training.")
    var dev: [String] = []
    @Option(name: .long, help: "Output directory.")
    var out: String
    @OptionGroup var windows: WindowOptions

    @Option(help: "Passes over the training windows.") var epochs: Double = 2
    @Option(name: .customLong("max-steps"), help: "Stop after this many optimizer steps (the schedule spans them).")
    var maxSteps: Int?
    @Option(name: .customLong("batch-size"), help: "Windows per optimizer step.") var batchSize = 16
    @Option(name: .customLong("gradient-accumulation"), help: "Forward/backward passes the batch is split into.")
    var gradientAccumulation = 1
    @Option(name: .customLong("learning-rate"), help: "Peak learning rate.") var learningRate = 1e-4
    @Option(name: .customLong("warmup-ratio"), help: "Fraction of steps of linear warmup.") var warmupRatio = 0.1
    @Option(name: .customLong("weight-decay"), help: "AdamW decoupled weight decay (not biases, LayerNorm).")
    var weightDecay = 0.01
    @Option(name: .customLong("max-grad-norm"), help: "Global gradient-norm clipping.") var maxGradNorm = 1.0
    @Option(help: "Hidden and attention dropout.") var dropout = 0.1
    @Option(help: "Seed of the batch order, dropout and span-head initialisation.") var seed: UInt64 = 42
    @Option(name: .customLong("ema-decay"), help: "Keep an EMA of the weights with this decay (e.g. 0.9999).")
    var emaDecay: Double?
    @Option(name: .customLong("checkpoint-every"), help: "Steps between checkpoints.") var checkpointEvery = 500
    @Option(name: .customLong("keep-checkpoints"), help: "Checkpoints kept on disk.") var keepCheckpoints = 2
    @Flag(help: "Continue from the latest checkpoint in --out.") var resume = false
    @Flag(name: .customLong("no-progress"), help: "No live progress line even on a terminal.") var noProgress = false

    var settings: TrainerSettings {
        var settings = TrainerSettings()
        settings.epochs = epochs
        settings.maxSteps = maxSteps
        settings.batchSize = batchSize
        settings.gradientAccumulation = gradientAccumulation
        settings.learningRate = learningRate
        settings.warmupRatio = warmupRatio
        settings.weightDecay = weightDecay
        settings.maxGradNorm = maxGradNorm
        settings.dropout = dropout
        settings.seed = seed
        settings.emaDecay = emaDecay
        settings.checkpointEvery = checkpointEvery
        settings.keepCheckpoints = keepCheckpoints
        settings.maxSequenceLength = windows.maxSeqLen
        return settings
    }

    func validate() throws {
        try windows.validateWindows()
        try refuse {
            try settings.validate()
            _ = try Preflight.checkModel(model.modelURL, maxSequenceLength: windows.maxSeqLen, layers: try model.parsedLayers())
            try Preflight.checkFiles(train.map(URL.init(fileURLWithPath:)), option: "--train")
            try Preflight.checkFiles(dev.map(URL.init(fileURLWithPath:)), option: "--dev")
            try Preflight.checkOutput(URL(fileURLWithPath: out), resume: resume)
            if model.ema && emaDecay == nil {
                throw TrainingError.invalidArgument("--ema (evaluate --dev with the EMA weights) needs --ema-decay")
            }
        }
    }

    func run() async throws {
        let outURL = URL(fileURLWithPath: out)
        let trainable = try BertSpanTrainable(directory: model.modelURL, layers: try model.parsedLayers(),
                                              dropout: dropout, seed: seed)
        if !trainable.initialised.isEmpty {
            report("initialised (absent from \(model.model)): \(trainable.initialised.joined(separator: ", "))")
        }
        let tokenizer = try WordPieceTokenizer(vocabFile: model.modelURL.appendingPathComponent("vocab.txt"),
                                               lowercase: trainable.doLowerCase)
        let data = try TrainingData.load(files: train.map(URL.init(fileURLWithPath:)), tokenizer: tokenizer,
                                         settings: windows.windowSettings)
        data.summaries.forEach(report)
        report("\(data.windows.count) training windows from \(data.examples) questions"
               + (data.unlabelledWindows > 0 ? " (\(data.unlabelledWindows) unlabelled windows left out)" : ""))
        let trainer = try Trainer(model: trainable, windows: data.windows, settings: settings, outputDirectory: outURL,
                                  padId: tokenizer.vocabulary.padId)
        trainer.log = report
        trainer.insideStep = FaultInjection.pauseHook(outputDirectory: outURL)
        report("\(trainer.totalSteps) steps of \(batchSize) windows (\(trainer.planner.batchesPerEpoch) per epoch), "
               + "\(trainable.parameterCount) parameters")
        let summary = try trainer.run(resume: resume, showProgress: noProgress ? false : nil)
        try trainer.writeFinalModel()
        report(String(format: "trained %d steps in %.0f s (%.0f tokens/s); final loss %.4f; model in %@",
                      summary.steps, summary.seconds, summary.tokensPerSecond, summary.finalLoss, outURL.path))
        guard !dev.isEmpty else { return }
        if model.ema { try trainable.loadWeightsFile(outURL.appendingPathComponent("ema.safetensors")) }
        let predictor = try Predictor(model: trainable.model, tokenizer: tokenizer, windowSettings: windows.windowSettings,
                                      decoderSettings: windows.decoderSettings)
        let evaluation = try predictor.predictAll(files: dev.map(URL.init(fileURLWithPath:)),
                                                  out: outURL.appendingPathComponent("dev"), log: report)
        print(evaluation.table)
    }
}
