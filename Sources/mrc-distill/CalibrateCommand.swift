import ArgumentParser
import Foundation
import Model
import MRC
import Text
import Training

/// `mrc-distill calibrate`: the static int8 scales of a span-QA model, measured on real windows.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure a model's static int8 scales on real windows; writes DIR/int8-calibration.json.",
        discussion: """
            Runs fp32 forwards over --windows windows spread evenly over the questions of the --data files \
            (training data, not the data you will score) and records, per layer, each channel's largest value \
            of the two LayerNorm outputs and the 99.99th percentile of the attention context. With that file \
            in the model directory, --precision int8 (predict, score, serve, teach, forward) quantises the activations with these fixed scales inside the kernels that produce them; \
            without it, per token at every call.
            """)

    @Option(name: .customLong("model"), help: ArgumentHelp("The model directory.", valueName: "dir")) var model: String
    @Option(name: .long, parsing: .upToNextOption, help: "Data files: SQuAD .json or MRQA .jsonl[.gz].") var data: [String]
    @Option(name: .customLong("windows"), help: "Windows to measure.") var windowCount = 128
    @Option(name: .customLong("batch-size"), help: "Windows per forward pass.") var batchSize = 8
    @Option(name: .long, help: "Where to write the calibration (default: DIR/int8-calibration.json).") var out: String?
    @OptionGroup var windows: WindowOptions
    @OptionGroup var dataOptions: DataOptions

    func validate() throws {
        try windows.validateWindows(searchable: false)
        guard windowCount > 0, batchSize > 0 else { throw ValidationError("--windows and --batch-size must be positive") }
        try refuse {
            _ = try Preflight.checkModel(URL(fileURLWithPath: model), maxSequenceLength: windows.maxSeqLen)
            try Preflight.checkFiles(data.map(URL.init(fileURLWithPath:)), option: "--data")
        }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: model)
        let trainable = try BertSpanTrainable(directory: directory)
        let builder = try WindowBuilder(tokenizer: trainable.tokenizer, settings: windows.windowSettings)
        var examples: [MRCExample] = []
        for file in data { examples += try MRCReader.read(URL(fileURLWithPath: file), strict: dataOptions.strict).examples }
        // Every k-th question, so that the windows come from across the files, not from their first articles.
        let step = max(1, examples.count / windowCount)
        let picked = stride(from: 0, to: examples.count, by: step).map { examples[$0] }
        let chosen = Array(builder.windows(for: picked).windows.prefix(windowCount))
        guard !chosen.isEmpty else { throw ValidationError("--data gave no windows to calibrate on") }
        let batches = try stride(from: 0, to: chosen.count, by: batchSize).map {
            try EncoderBatch(padding: Array(chosen[$0..<min(chosen.count, $0 + batchSize)]))
        }
        let names = data.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", ")
        let started = Date()
        let calibration = try trainable.model.calibrateInt8(batches: batches, source: "\(chosen.count) windows of \(names)")
        let url = out.map(URL.init(fileURLWithPath:)) ?? directory.appendingPathComponent(Int8Calibration.fileName)
        try calibration.write(to: url)
        report(String(format: "calibrated on %d windows in %.1f s; wrote %@", chosen.count, Date().timeIntervalSince(started), url.path))
        for (l, layer) in calibration.layers.enumerated() {
            // The GELU output's largest channel maximum against its median one: the outlier that per-token scales meet.
            let gelu = (layer.feedForwardChannelMax ?? []).sorted()
            print(String(format: "layer %d: input max %.2f, LayerNorm 1 max %.2f, context p99.99 %.3f, GELU max %.2f (median channel %.2f)",
                         l, layer.inputChannelMax.max() ?? 0, layer.norm1ChannelMax.max() ?? 0, layer.contextRange,
                         gelu.last ?? 0, gelu.isEmpty ? 0 : gelu[gelu.count / 2]))
        }
    }
}
