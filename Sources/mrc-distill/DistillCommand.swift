import ArgumentParser
import Checkpoint
import Distillation
import Foundation
import Text
import Training

/// `mrc-distill distill`: trains a student on gold spans plus the teachers' soft labels, optionally
/// mixed batch by batch with the MLM task on unlabelled text.
struct DistillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Distil a teacher ensemble's soft labels (from `teach`) into a student.",
        discussion: """
            loss = α_hard·CE(gold) + α_soft·T²·KL(softmax(teacher/T) ‖ softmax(student/T)), start and end averaged, \
            padding masked; CE over the rows with gold (--transfer windows have none: a transfer set learnt from the \
            teachers alone). With --mlm-mix-ratio r > 0, each step is an MRC batch or an MLM batch (15 % of tokens, \
            80/10/10) drawn with probability ∝ [1, r], and the run lasts epochs × MRC batches × (1 + r) steps. \
            --preset dnet is D-NET's setting: T = 1, hard + soft 1:1 without T², r = 2.0, EMA 0.9999, lr 3e-5 (each \
            can still be overridden). The store must have been made for these windows (same vocab, lower-casing, \
            window settings and data), else it is refused naming the field. OUT gets the student in the Hugging \
            Face layout (span-QA only; ema.safetensors with --ema-decay), checkpoints and metrics.jsonl (each loss \
            term per step).
            """)

    @Option(name: .long, help: "The student's initial model directory (e.g. the pretrained encoder).") var student: String
    @Option(name: .long, help: "Keep only these encoder layers, e.g. 0,2,4.") var layers: String?
    @Option(name: .customLong("soft-labels"), help: "The soft-label store written by `teach`.") var softLabels: String
    @Option(name: .long, parsing: .upToNextOption, help: "Training files (the same `teach` scored).") var train: [String]
    @Option(name: .long, parsing: .upToNextOption,
            help: "Transfer files (the same `teach --transfer` scored): learnt from the soft labels alone, gold unused.")
    var transfer: [String] = []
    @Option(name: .long, parsing: .upToNextOption, help: "Dev files evaluated after training.") var dev: [String] = []
    @Option(name: .long, help: "Output directory.") var out: String
    @Flag(name: .long, help: "Evaluate --dev with the EMA weights.") var ema = false
    @OptionGroup var windows: WindowOptions
    @OptionGroup var training: TrainerOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var kd: DistillationOptions
    @OptionGroup var intermediate: IntermediateOptions
    @OptionGroup var estimate: EstimateOptions

    func validate() throws {
        try windows.validateWindows()
        try training.validatePrecision()
        try kd.validate()
        try intermediate.validate()
        try refuse {
            try training.settings(maxSeqLen: windows.maxSeqLen).validate()
            _ = try Preflight.checkModel(URL(fileURLWithPath: student), maxSequenceLength: windows.maxSeqLen,
                                         layers: try layers.map(Preflight.parseLayers))
            try Preflight.checkFiles([URL(fileURLWithPath: softLabels)], option: "--soft-labels")
            try Preflight.checkFiles(train.map(URL.init(fileURLWithPath:)), option: "--train")
            try Preflight.checkFiles(transfer.map(URL.init(fileURLWithPath:)), option: "--transfer")
            try Preflight.checkFiles(dev.map(URL.init(fileURLWithPath:)), option: "--dev")
            try Preflight.checkFiles(kd.mlmText.map(URL.init(fileURLWithPath:)), option: "--mlm-text")
            try Preflight.checkOutput(URL(fileURLWithPath: out), resume: training.resume)
            if ema && training.emaDecay == nil && kd.preset != "dnet" {
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
        let mixRatio = kd.mixRatio
        let settings = training.settings(maxSeqLen: windows.maxSeqLen, defaultLearningRate: kd.defaultLearningRate,
                                         defaultEMADecay: kd.defaultEMADecay)
        let studentURL = URL(fileURLWithPath: student), selection = try layers.map(Preflight.parseLayers)
        var studentConfig = try BertConfig.load(from: studentURL.appendingPathComponent("config.json"))
        studentConfig.numHiddenLayers = selection?.count ?? studentConfig.numHiddenLayers
        let layerKD = try intermediate.settings(studentConfig: studentConfig)
        let student = try BertSpanTrainable(directory: studentURL, layers: selection, dropout: settings.dropout, seed: settings.seed,
                                            mlmHead: mixRatio > 0,
                                            auxiliary: layerKD.map { $0.settings.projections(studentWidth: studentConfig.hiddenSize,
                                                                                             teacherWidth: $0.teacherConfig.hiddenSize) } ?? [])
        student.model.precision = training.precision
        announce(training.precision)
        let layerDistillation = try layerKD.map { try intermediate.load($0.settings, student: student) }
        if let layerDistillation {
            let s = layerDistillation.settings
            report("intermediate layers from \(intermediate.teacher!): map \(s.layerMap), hidden MSE \(s.hiddenWeight), "
                   + "attention KL \(s.attentionWeight), embedding MSE \(s.embeddingWeight)"
                   + (student.model.layout.auxiliary.isEmpty ? "" : "; \(student.model.layout.auxiliary.count / 2) projection(s) to width \(layerDistillation.teacher.config.hiddenSize)"))
        } else if intermediate.teacher != nil {
            report("--intermediate-teacher is unused: every intermediate weight is 0 (plain distillation)")
        }
        if !student.initialised.isEmpty { report("initialised (absent from \(self.student)): \(student.initialised.joined(separator: ", "))") }
        let tokenizer = student.tokenizer
        let data = try DistillationData.load(files: train.map(URL.init(fileURLWithPath:)),
                                             transfer: transfer.map(URL.init(fileURLWithPath:)), tokenizer: tokenizer,
                                             settings: windows.windowSettings, strict: dataOptions.strict)
        data.summaries.forEach(report)
        let store = try SoftLabelStore(url: URL(fileURLWithPath: softLabels))
        let labels = try StoreSoftLabels(store: store, data: data,
                                         expected: data.provenance(vocabulary: tokenizer.vocabulary, lowercase: student.doLowerCase))
        report("soft labels: \(store.provenance.teachers.map(\.name).joined(separator: ", ")) "
               + "(\(store.provenance.combination.rawValue), T = \(store.provenance.temperature))")
        let transfer = data.transferWindowIndices
        if !transfer.isEmpty {
            let bare = transfer.filter { !store.isLabelled(at: $0) }.count
            report("transfer set: \(transfer.count) windows learnt from the soft labels alone"
                   + (bare > 0 ? "; \(bare) of them have no soft label (no teacher scored them) and train nothing" : ""))
        }
        let loss = kd.loss
        var tasks: [(task: TrainingTask, weight: Double)] = [
            (SoftLabelSpanTask(student: student, windows: data.trainingWindows, labels: labels, loss: loss,
                               padId: tokenizer.vocabulary.padId, intermediate: layerDistillation), 1),
        ]
        if mixRatio > 0 {
            let corpus = kd.mlmText.isEmpty
                ? MLMCorpus.fromTexts(data.examples.map(\.context.string), tokenizer: tokenizer, maxSeqLen: windows.maxSeqLen)
                : try MLMCorpus.load(files: kd.mlmText.map(URL.init(fileURLWithPath:)), tokenizer: tokenizer, maxSeqLen: windows.maxSeqLen)
            corpus.summaries.forEach(report)
            report("MLM: \(corpus.sequences.count) sequences, mix ratio \(mixRatio)")
            tasks.append((try MLMTask(student: student, corpus: corpus,
                                      masking: MLMMasking(vocabulary: tokenizer.vocabulary, probability: kd.mlmProbability)), mixRatio))
        }
        let baseline = RunEstimate.residentBytes
        let trainer = try Trainer(model: student, tasks: tasks, settings: settings, outputDirectory: outURL)
        if try estimate.tell(isRoot: communicator.isRoot, {
            let evaluation = try windowLengths(dev, tokenizer: tokenizer, windows: windows, strict: dataOptions.strict)
            return RunEstimate.training(command: "distill", trainer: trainer, config: student.model.config, precision: training.precision,
                                 windows: data.trainingWindows.count, baselineBytes: baseline, mappedBytes: store.fileSize,
                                 evaluationLengths: evaluation.lengths, evaluationReadingSeconds: evaluation.seconds,
                                 ranks: communicator.size,
                                 passTeacher: layerDistillation?.passTeacher(rows: settings.microBatchRows, seqLen: settings.maxSequenceLength))
        }) { return }
        trainer.log = report
        trainer.communicator = communicator
        trainer.insideStep = FaultInjection.pauseHook(outputDirectory: outURL, rank: communicator.rank)
        report("\(trainer.totalSteps) steps of \(settings.batchSize) (\(trainer.planner.batchesPerEpoch) MRC batches per epoch); "
               + String(format: "α_hard %g, α_soft %g, T %g%@, lr %g", loss.hardWeight, loss.softWeight, loss.temperature,
                        loss.scaleByTemperatureSquared ? " with T²" : "", settings.learningRate)
               + "; \(student.parameterCount) parameters")
        let summary = try trainer.run(resume: training.resume, showProgress: training.noProgress ? false : nil)
        guard communicator.isRoot else { return }
        try trainer.writeFinalModel()
        if let line = try ModelAnswerability.record(in: outURL, unanswerableWindows: data.unanswerableWindows) { report(line) }
        report(String(format: "distilled %d steps in %.0f s (%.0f tokens/s); final loss %.4f; student in %@",
                      summary.steps, summary.seconds, summary.tokensPerSecond, summary.finalLoss, outURL.path))
        try evaluateDev(dev, modelDirectory: outURL, useEMA: ema, windows: windows)
    }
}

/// The knowledge-distillation settings of `distill`, and D-NET's preset.
struct DistillationOptions: ParsableArguments {
    @Option(help: "A preset of the settings below: dnet (T 1, α 1:1 without T², MLM mix 2.0, EMA 0.9999, lr 3e-5).")
    var preset: String?
    @Option(help: "Distillation temperature T (default 2; dnet 1).") var temperature: Double?
    @Option(name: .customLong("alpha-hard"), help: "Weight of the gold-span loss (default 0.5; dnet 1).") var alphaHard: Double?
    @Option(name: .customLong("alpha-soft"), help: "Weight of the soft loss (default 0.5; dnet 1).") var alphaSoft: Double?
    @Flag(name: .customLong("no-temperature-squared"), help: "Do not multiply the soft loss by T² (dnet never does).")
    var noTemperatureSquared = false
    @Option(name: .customLong("mlm-mix-ratio"), help: "MLM batches per MRC batch on average; 0 = no MLM (default 0; dnet 2).")
    var mlmMixRatio: Double?
    @Option(name: .customLong("mlm-text"), parsing: .upToNextOption,
            help: "Unlabelled text for MLM: .txt, .jsonl (\"text\"), SQuAD or MRQA files (default: the training contexts).")
    var mlmText: [String] = []
    @Option(name: .customLong("mlm-probability"), help: "Fraction of tokens MLM selects.") var mlmProbability = 0.15

    var isDNet: Bool { preset == "dnet" }
    var mixRatio: Double { mlmMixRatio ?? (isDNet ? 2 : 0) }
    var defaultLearningRate: Double { isDNet ? 3e-5 : TrainerOptions.defaultLearningRate }
    var defaultEMADecay: Double? { isDNet ? 0.9999 : nil }

    var loss: DistillationLoss {
        DistillationLoss(hardWeight: Float(alphaHard ?? (isDNet ? 1 : 0.5)), softWeight: Float(alphaSoft ?? (isDNet ? 1 : 0.5)),
                         temperature: Float(temperature ?? (isDNet ? 1 : 2)),
                         scaleByTemperatureSquared: !(noTemperatureSquared || isDNet))
    }

    func validate() throws {
        if let preset, preset != "dnet" { throw ValidationError("--preset must be dnet, not \(preset)") }
        guard mixRatio >= 0, mixRatio.isFinite else { throw ValidationError("--mlm-mix-ratio must not be negative") }
        guard (0..<1).contains(mlmProbability), mlmProbability > 0 else { throw ValidationError("--mlm-probability must be in (0, 1)") }
        let l = loss
        guard l.temperature > 0, l.hardWeight >= 0, l.softWeight >= 0, l.hardWeight + l.softWeight > 0 else {
            throw ValidationError("--temperature must be positive and the α weights not negative, not both zero")
        }
    }
}
