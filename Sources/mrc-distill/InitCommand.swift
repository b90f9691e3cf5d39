import ArgumentParser
import Checkpoint
import Foundation
import Model

/// `mrc-distill init`: a randomly initialised span-QA model of any shape, for a student that cannot copy a
/// teacher's layers (e.g. narrower than every pretrained model at hand): Hugging Face's BERT
/// initialisation (weights N(0, initializer_range²), biases 0, LayerNorm weights 1), the vocabulary of
/// another model, written in the Hugging Face layout.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a randomly initialised model of a given shape (a student for intermediate-layer distillation).",
        discussion: """
            The shape is DIR's config.json with --hidden-size, --layers, --heads and --intermediate-size replacing its \
            fields; vocab.txt and lower-casing come from DIR too. Example, a TinyBERT-4-shaped student for MiniLM-L6: \
            mrc-distill init --from MINILM --hidden-size 312 --layers 4 --heads 12 --intermediate-size 1200 --out student-312
            """)

    @Option(name: .customLong("from"), help: "A model directory whose config.json, vocab.txt and tokenizer settings to start from.")
    var from: String
    @Option(name: .customLong("hidden-size"), help: "Width of the new model.") var hiddenSize: Int?
    @Option(help: "Number of encoder layers.") var layers: Int?
    @Option(help: "Attention heads (must divide the width).") var heads: Int?
    @Option(name: .customLong("intermediate-size"), help: "Feed-forward width.") var intermediateSize: Int?
    @Option(help: "Seed of the initialisation.") var seed: UInt64 = 42
    @Option(help: "Output directory.") var out: String

    func validate() throws {
        for (name, value) in [("--hidden-size", hiddenSize), ("--layers", layers), ("--heads", heads), ("--intermediate-size", intermediateSize)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1, not \(value)") }
        }
    }

    func run() throws {
        let source = URL(fileURLWithPath: from)
        var config = try BertConfig.load(from: source.appendingPathComponent("config.json"))
        config.hiddenSize = hiddenSize ?? config.hiddenSize
        config.numHiddenLayers = layers ?? config.numHiddenLayers
        config.numAttentionHeads = heads ?? config.numAttentionHeads
        config.intermediateSize = intermediateSize ?? config.intermediateSize
        guard config.hiddenSize % config.numAttentionHeads == 0 else {
            throw ValidationError("--heads \(config.numAttentionHeads) does not divide the width \(config.hiddenSize)")
        }
        guard let tokenizer = try TokenizerFiles.load(source) else {
            throw ValidationError("--from \(from) has no tokenizer files (vocab.txt, or vocab.json and merges.txt)")
        }
        let model = BertModel(config: config, heads: .span)
        for entry in model.layout.entries {
            var generator = SeededGenerator(seed: seed ^ stableHash(entry.name))
            model.parameters.initialise(entry.name, std: Float(config.initializerRange), generator: &generator)
        }
        try ModelDirectory.save(model, tokenizer: tokenizer, to: URL(fileURLWithPath: out))
        FileHandle.standardError.write(Data("initialised a \(config.numHiddenLayers)-layer model, width \(config.hiddenSize), \(config.numAttentionHeads) heads, \(model.parameters.count) parameters, in \(out)\n".utf8))
    }
}
