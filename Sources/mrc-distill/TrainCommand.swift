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

    @OptionGroup var training: TrainerOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var estimate: EstimateOptions

    var settings: TrainerSettings { training.settings(maxSeqLen: windows.maxSeqLen) }

    func validate() throws {
        try windows.validateWindows()
        try training.validatePrecision()
        try refuse {
            try settings.validate()
            _ = try Preflight.checkModel(model.modelURL, maxSequenceLength: windows.maxSeqLen, layers: try model.parsedLayers())
            try Preflight.checkFiles(train.map(URL.init(fileURLWithPath:)), option: "--train")
            try Preflight.checkFiles(dev.map(URL.init(fileURLWithPath:)), option: "--dev")
            try Preflight.checkOutput(URL(fileURLWithPath: out), resume: training.resume)
            if model.ema && training.emaDecay == nil {
                throw TrainingError.invalidArgument("--ema (evaluate --dev with the EMA weights) needs --ema-decay")
            }
        }
    }

    func run() async throws {
        try await training.parallel.run(run(communicator:))
    }

    /// The command on one rank (every rank of an MPI job runs it; rank 0 alone writes).
    func run(communicator: Communicator) async throws {
        let outURL = URL(fileURLWithPath: out)
        let trainable = try BertSpanTrainable(directory: model.modelURL, layers: try model.parsedLayers(),
                                              dropout: training.dropout, seed: training.seed)
        trainable.model.precision = training.precision
        announce(training.precision)
        if !trainable.initialised.isEmpty {
            report("initialised (absent from \(model.model)): \(trainable.initialised.joined(separator: ", "))")
        }
        let tokenizer = trainable.tokenizer
        let data = try TrainingData.load(files: train.map(URL.init(fileURLWithPath:)), tokenizer: tokenizer,
                                         settings: windows.windowSettings, strict: dataOptions.strict)
        data.summaries.forEach(report)
        report("\(data.windows.count) training windows from \(data.examples) questions"
               + (data.unlabelledWindows > 0 ? " (\(data.unlabelledWindows) unlabelled windows left out)" : ""))
        let baseline = RunEstimate.residentBytes
        let trainer = try Trainer(model: trainable, windows: data.windows, settings: settings, outputDirectory: outURL,
                                  padId: tokenizer.vocabulary.padId)
        if try estimate.tell(isRoot: communicator.isRoot, {
            let evaluation = try windowLengths(dev, tokenizer: tokenizer, windows: windows, strict: dataOptions.strict)
            return RunEstimate.training(command: "train", trainer: trainer, config: trainable.model.config, precision: training.precision,
                                 windows: data.windows.count, baselineBytes: baseline,
                                 evaluationLengths: evaluation.lengths, evaluationReadingSeconds: evaluation.seconds,
                                 ranks: communicator.size)
        }) { return }
        trainer.log = report
        trainer.communicator = communicator
        trainer.insideStep = FaultInjection.pauseHook(outputDirectory: outURL, rank: communicator.rank)
        report("\(trainer.totalSteps) steps of \(training.batchSize) windows (\(trainer.planner.batchesPerEpoch) per epoch), "
               + "\(trainable.parameterCount) parameters")
        let summary = try trainer.run(resume: training.resume, showProgress: training.noProgress ? false : nil)
        guard communicator.isRoot else { return }
        try trainer.writeFinalModel()
        if let line = try ModelAnswerability.record(in: outURL, unanswerableWindows: data.unanswerableWindows) { report(line) }
        report(String(format: "trained %d steps in %.0f s (%.0f tokens/s); final loss %.4f; model in %@",
                      summary.steps, summary.seconds, summary.tokensPerSecond, summary.finalLoss, outURL.path))
        try evaluateDev(dev, modelDirectory: outURL, useEMA: model.ema, windows: windows)
    }
}
