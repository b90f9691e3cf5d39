import Checkpoint
import Foundation
import Kernels
import Model
import Text

/// The Model target's BERT as a `SpanTrainable`: a span-QA model loaded from a Hugging Face
/// directory (span head initialised N(0, initializer_range²) when absent), optionally cut down to
/// some of its layers, with the training dropout set; optionally with an MLM head too (tied to the
/// word embeddings; initialised when absent) for distillation's auxiliary task, and training-only
/// `auxiliary` tensors (intermediate distillation's projections, initialised N(0, initializer_range²)
/// with zero biases from `seed`). Checkpoints keep every head and auxiliary tensor; the exported model
/// and every `ema.safetensors` hold the span-QA model alone.
public final class BertSpanTrainable: SpanTrainable {
    public let model: BertModel
    /// The directory's tokenizer files, written back with every save.
    public let tokenizerFiles: TokenizerFiles
    /// The tokenizer they describe (WordPiece or byte-level BPE).
    public let tokenizer: any Tokenizer
    public var vocabulary: Vocabulary { tokenizerFiles.vocabulary }
    public var doLowerCase: Bool { tokenizerFiles.lowercase }
    /// Tensors the load initialised because the directory lacked them (e.g. the span head).
    public let initialised: [String]

    /// Loads `directory`; `layers` selects encoder layers for a student; `dropout` overrides the
    /// config's hidden and attention dropout; `seed` seeds the initialisation of a missing span head.
    public init(directory: URL, layers: [Int]? = nil, dropout: Double? = nil, seed: UInt64 = 42,
                weightsFile: String? = nil, mlmHead: Bool = false, auxiliary: [AuxiliaryTensor] = []) throws {
        let loaded = try ModelDirectory.load(directory, spanHead: .initialiseIfMissing(seed: seed),
                                             mlmHead: mlmHead ? .initialiseIfMissing(seed: seed) : .omit)
        guard let tokenizerFiles = loaded.tokenizer else {
            throw TrainingError.invalidArgument("\(directory.path) has no tokenizer files (vocab.txt, or vocab.json and merges.txt)")
        }
        var model = loaded.model
        if let layers { model = try model.selectingLayers(layers) }
        if dropout != nil || !auxiliary.isEmpty {
            var config = model.config
            if let dropout {
                config.hiddenDropoutProb = dropout
                config.attentionProbsDropoutProb = dropout
            }
            let parameters = ParameterBuffer(layout: ParameterLayout(config: config, heads: model.heads, auxiliary: auxiliary))
            parameters.pointer.update(from: model.parameters.pointer, count: model.parameters.count)
            for tensor in auxiliary {
                var generator = SeededGenerator(seed: seed ^ stableHash(tensor.name))
                parameters.initialise(tensor.name, std: Float(config.initializerRange), generator: &generator)
            }
            model = BertModel(parameters: parameters)
        }
        self.model = model
        self.tokenizerFiles = tokenizerFiles
        tokenizer = try tokenizerFiles.makeTokenizer()
        initialised = loaded.initialised
        if let weightsFile { try loadWeightsFile(directory.appendingPathComponent(weightsFile)) }
    }

    public var parameterCount: Int { model.parameters.count }
    public var parameters: UnsafeMutablePointer<Float> { model.parameters.pointer }
    public var gradients: UnsafeMutablePointer<Float> { model.gradients.pointer }
    public var parameterRanges: [(name: String, range: Range<Int>, decays: Bool)] {
        model.layout.entries.map { ($0.name, $0.range, $0.decays) }
    }

    public func zeroGradients() { model.zeroGradients() }

    public func accumulateGradients(_ batch: SpanBatch, dropoutSeed: UInt64?, lossScale: Float) throws -> Double {
        let encoderBatch = try EncoderBatch(batch: batch.rows, seqLen: batch.sequenceLength, inputIds: batch.inputIds,
                                            tokenTypeIds: batch.tokenTypeIds, attentionMask: batch.attentionMask)
        let scaledLoss = try model.spanLossStep(encoderBatch, startPositions: batch.startPositions,
                                                endPositions: batch.endPositions, dropoutSeed: dropoutSeed, scale: lossScale)
        return Double(scaledLoss) / Double(lossScale)
    }

    public func save(to directory: URL, weights: UnsafePointer<Float>?) throws {
        if let weights {
            let copy = ParameterBuffer(layout: model.layout)
            copy.pointer.update(from: weights, count: parameterCount)
            try ModelDirectory.save(BertModel(parameters: copy), tokenizer: tokenizerFiles, to: directory)
        } else {
            try ModelDirectory.save(model, tokenizer: tokenizerFiles, to: directory)
        }
    }

    /// The span-QA model alone (what users load): config.json says BertForQuestionAnswering.
    public func export(to directory: URL) throws {
        guard model.heads.contains(.mlm) || !model.layout.auxiliary.isEmpty else { return try save(to: directory, weights: nil) }
        try ModelDirectory.save(try model.keepingHeads(.span), tokenizer: tokenizerFiles, to: directory)
    }

    /// Writes the span-QA model's tensors of `weights` (an MLM head and auxiliary tensors are left out).
    public func saveWeights(_ weights: UnsafePointer<Float>, to file: URL) throws {
        var writer = SafeTensorsWriter()
        let auxiliary = Set(model.layout.auxiliary.map(\.name))
        for entry in model.layout.entries where !entry.name.hasPrefix("cls.") && !auxiliary.contains(entry.name) {
            try writer.add(entry.name, shape: entry.shape, floats: UnsafeBufferPointer(start: weights + entry.offset, count: entry.count))
        }
        try writer.write(to: file)
    }

    public func loadWeights(from directory: URL) throws {
        try loadWeightsFile(directory.appendingPathComponent("model.safetensors"))
    }

    /// Replaces the parameters with a safetensors file of the same model (HF names, e.g. ema.safetensors);
    /// a checkpoint's file also holds the auxiliary tensors, which are loaded too (a file without them, such
    /// as an ema.safetensors, leaves them as they are).
    public func loadWeightsFile(_ file: URL) throws {
        let tensors = try SafeTensorsFile(contentsOf: file)
        let layout = model.layout
        let hasAuxiliary = layout.auxiliary.first.map { tensors.tensors[$0.name] != nil } ?? false
        let (loaded, _) = try ModelDirectory.loadParameters(from: tensors, config: model.config, spanHead: .require,
                                                            mlmHead: model.heads.contains(.mlm) ? .require : .omit,
                                                            auxiliary: hasAuxiliary ? layout.auxiliary : [])
        // The auxiliary tensors come last: without them the file fills the buffer up to the first one.
        let expected = hasAuxiliary ? parameterCount : layout.auxiliary.first.flatMap { layout.entry($0.name)?.offset } ?? parameterCount
        guard loaded.count == expected else {
            throw TrainingError.invalidState("\(file.path) holds \(loaded.count) parameters, the model has \(expected)")
        }
        model.parameters.pointer.update(from: loaded.pointer, count: loaded.count)
        model.parametersDidChange()
    }

    public var precision: Precision { model.precision }
}
