import ArgumentParser
import Distillation
import Foundation
import Model
import Text
import Training

/// `mrc-distill teach`: the teachers score the student's training windows into a soft-label store.
struct TeachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teach",
        abstract: "Score the student's training windows with an ensemble of teachers into a soft-label store.",
        discussion: """
            Teachers (--teacher [NAME=]PATH[:WEIGHT], repeatable, mixed freely): a span-QA model directory in the \
            Hugging Face layout (any vocabulary, cased or uncased: other tokenizers are mapped through character \
            offsets), a black-box prediction file (predictions.json: id → answer text; nbest_predictions.json \
            with probabilities), or logits:FILE, per-token logits of any model run elsewhere (docs/TEACHER-LOGITS.md, \
            written by scripts/teacher_logits.py; [NAME=]logits:FILE[:WEIGHT]). The windows are the student's own (--student's vocab.txt and lower-casing, and \
            the window options), exactly those `distill` trains on: the --data files' windows, then every window of the \
            --transfer files (a transfer set: questions the student learns from the teachers alone; give `distill` the \
            same --transfer). --shard i/N writes part i of N (numbered from \
            1); `mrc-distill merge` joins the parts into a file identical to the unsharded one.
            """)

    @Option(name: .customLong("teacher"), help: "[NAME=]PATH[:WEIGHT]: a model directory, a prediction file or logits:FILE (repeatable).")
    var teachers: [String]
    @Option(name: .long, parsing: .upToNextOption, help: "Training files: SQuAD .json or MRQA .jsonl[.gz].")
    var data: [String]
    @Option(name: .long, parsing: .upToNextOption,
            help: "Transfer files: questions the student learns from the soft labels alone (gold answers, if any, unused).")
    var transfer: [String] = []
    @Option(name: .long, help: "The student's directory (its vocab.txt and lower-casing define the windows).")
    var student: String
    @Option(name: .long, help: "The soft-label store to write.")
    var out: String
    @OptionGroup var windows: WindowOptions
    @OptionGroup var precision: InferencePrecisionOptions
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "How teachers combine: mean-probabilities or mean-logits.") var combine = "mean-probabilities"
    @Option(help: "Temperature applied to each teacher before combining.") var temperature = 1.0
    @Option(name: .customLong("label-precision"), help: "Number format of the stored soft labels: fp16 or bf16.")
    var labelPrecision = "fp16"
    @Option(help: "Write part i of N (i from 1), e.g. 2/4.") var shard: String?
    @Flag(name: .customLong("teacher-ema"), help: "Model teachers use ema.safetensors when they have one.")
    var teacherEMA = false
    @Option(name: .customLong("batch-size"), help: "Windows per teacher forward pass.") var batchSize = 32
    @OptionGroup var estimate: EstimateOptions
    @Flag(name: .customLong("no-progress"), help: "No live progress bar even on a terminal.") var noProgress = false
    @Option(help: ArgumentHelp("Without --shard: windows per part; finished parts (in OUT.parts/) survive a stopped run, "
                               + "and the next run labels only the rest."))
    var partWindows = 16 * 2048

    func validate() throws {
        try windows.validateWindows()
        guard SoftLabelProvenance.Combination(rawValue: combine) != nil else {
            throw ValidationError("--combine must be mean-probabilities or mean-logits, not \(combine)")
        }
        guard SoftLabelProvenance.Precision(rawValue: labelPrecision) != nil else {
            throw ValidationError("--label-precision must be fp16 or bf16, not \(labelPrecision)")
        }
        guard !teachers.isEmpty else { throw ValidationError("give at least one --teacher") }
        try refuse {
            _ = try teachers.map { try MemberSpec($0) }
            _ = try shard.map(SoftLabelShard.parse)
            try Preflight.checkFiles(data.map(URL.init(fileURLWithPath:)), option: "--data")
            try Preflight.checkFiles(transfer.map(URL.init(fileURLWithPath:)), option: "--transfer")
            guard batchSize > 0 else { throw TrainingError.invalidArgument("--batch-size must be positive") }
            guard partWindows > 0 else { throw TrainingError.invalidArgument("--part-windows must be positive") }
        }
    }

    func run() async throws {
        let started = Date()
        let studentURL = URL(fileURLWithPath: student)
        let (tokenizer, lowercase) = try studentTokenizer(studentURL)
        // The windows are surveyed (count, fingerprint), then produced again chunk by chunk while the teachers score them.
        let source = try DistillationSource.read(files: data.map(URL.init(fileURLWithPath:)),
                                                 transfer: transfer.map(URL.init(fileURLWithPath:)), tokenizer: tokenizer,
                                                 settings: windows.windowSettings, strict: dataOptions.strict)
        let (survey, surveySeconds) = try RunEstimate.timed { try source.survey() }
        survey.summaries.forEach(report)
        let specs = try teachers.map { try MemberSpec($0) }
        announce(precision.precision, models: specs.filter { !$0.isLogitsFile }.map(\.path))
        let ensemble = try TeacherEnsemble(
            teachers: try specs.map { try $0.load(student: tokenizer, useEMA: teacherEMA, batchSize: batchSize, precision: precision.precision) },
            weights: specs.map(\.weight), combination: SoftLabelProvenance.Combination(rawValue: combine)!,
            temperature: temperature)
        // The model teachers score each chunk one after another: one activation arena per shape serves them.
        let models = ensemble.teachers.compactMap { ($0 as? ModelTeacher)?.model }
        InferenceArena.share(among: models)
        if try estimate.tell({
            let baseline = RunEstimate.residentBytes, loaded = RunEstimate.loaded
            let range = try shard.map(SoftLabelShard.parse)?.range(windows: survey.count) ?? 0..<survey.count
            let inference = RunEstimate.inference(models: models.map(\.config), lengths: Array(survey.lengths[range]),
                                                  batchSize: batchSize, maxSeqLen: windows.maxSeqLen, precision: precision.precision,
                                                  staticInt8: models.allSatisfy { $0.int8Calibration != nil })
            return RunEstimate(command: "teach", windows: range.count,
                               phases: [loaded, .init(name: "windowing again", seconds: surveySeconds),
                                        .init(name: "teachers", seconds: inference.seconds)],
                               peakBytes: baseline + inference.workingBytes, basis: inference.basis)
        }) { return }
        let teaching = Teaching(source: source, survey: survey, ensemble: ensemble,
                                vocabulary: tokenizer.vocabulary, lowercase: lowercase,
                                precision: SoftLabelProvenance.Precision(rawValue: labelPrecision)!,
                                shard: try shard.map(SoftLabelShard.parse))
        let range = teaching.shard?.range(windows: survey.count) ?? 0..<survey.count
        report("\(survey.count) training windows from \(source.examples.count) questions; scoring windows "
               + "\(range.lowerBound)..<\(range.upperBound) with \(specs.count) teachers")
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        if teaching.shard == nil {
            // In parts under <out>.parts/, kept when a run is stopped: the next run labels only what is missing.
            _ = try teaching.runResumably(to: outURL, partWindows: partWindows, log: report, showProgress: noProgress ? false : nil)
        } else {
            _ = try teaching.run(to: outURL, log: report, showProgress: noProgress ? false : nil)
        }
        report(String(format: "wrote %@ in %.1f s", outURL.path, Date().timeIntervalSince(started)))
        let store = try SoftLabelStore(url: outURL)
        print(try store.summary())
        for teacher in store.provenance.teachers {
            if let warning = teacher.statistics.collapseWarning(teacher: teacher.name) { report(warning) }
        }
    }
}

/// The tokenizer a student directory defines (its vocab.txt and `do_lower_case`), and that lower-casing.
func studentTokenizer(_ directory: URL) throws -> (any Tokenizer, Bool) {
    let trainable = try BertSpanTrainable(directory: directory, dropout: 0)
    return (trainable.tokenizer, trainable.doLowerCase)
}
