import ArgumentParser
import Checkpoint
import Foundation
import Kernels
import MRC
import Model
import Text

/// `mrc-distill forward`: runs a model directory on one question and context and prints one JSON object.
struct ForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Run a model on one question and context; print input_ids, start/end logits (and hidden states) as JSON.")

    @Option(help: "Model directory (config.json, model.safetensors, vocab.txt; tokenizer_config.json optional).")
    var model: String

    @Option(help: "The question.")
    var question: String

    @Option(help: "The context; truncated to fit --max-seq-len.")
    var context: String

    @Flag(help: "Also print last_hidden_state, one array per token.")
    var hidden = false

    @Option(name: .customLong("max-seq-len"), help: "Most tokens in [CLS] question [SEP] context [SEP].")
    var maxSeqLen = 384

    @OptionGroup var precision: InferencePrecisionOptions

    func run() async throws {
        let directory = URL(fileURLWithPath: model)
        let loaded = try ModelDirectory.load(directory, spanHead: .ifPresent, mlmHead: .omit)
        guard let files = loaded.tokenizer else {
            throw ValidationError("\(model) has no tokenizer files (vocab.txt, or vocab.json and merges.txt)")
        }
        let tokenizer = try files.makeTokenizer()
        let questionIds = tokenizer.encode(question).ids, contextIds = tokenizer.encode(context).ids
        let room = maxSeqLen - questionIds.count - tokenizer.pairTemplate.specialTokenCount
        guard room >= 0 else {
            throw ValidationError("a question of \(questionIds.count) tokens leaves no room for context in \(maxSeqLen) tokens")
        }
        let kept = contextIds.prefix(room)
        let input = PairInput(question: questionIds, context: kept, template: tokenizer.pairTemplate, vocabulary: tokenizer.vocabulary,
                              paddedLength: tokenizer.pairTemplate.contextStart(questionTokens: questionIds.count) + kept.count + 1)
        let batch = try EncoderBatch(batch: 1, seqLen: input.length, inputIds: input.inputIds, tokenTypeIds: input.tokenTypeIds)
        let network = loaded.model
        try network.usePrecision(precision.precision, modelDirectory: directory)
        announce(precision.precision, models: [model])
        var fields = ["\"input_ids\":[" + batch.inputIds.map(String.init).joined(separator: ",") + "]"]
        if network.heads.contains(.span) {
            let logits = try network.forward(batch, forTraining: false)
            fields.append("\"start_logits\":" + jsonArray(logits.start))
            fields.append("\"end_logits\":" + jsonArray(logits.end))
        } else {
            try network.encode(batch, forTraining: false)
        }
        if hidden {
            let states = network.lastHiddenState()
            let width = network.config.hiddenSize
            let rows = stride(from: 0, to: states.count, by: width).map { jsonArray(states[$0..<($0 + width)]) }
            fields.append("\"last_hidden_state\":[" + rows.joined(separator: ",") + "]")
        }
        print("{" + fields.joined(separator: ",") + "}")
    }

    /// Floats printed with the shortest digits that read back to the same Float.
    private func jsonArray<C: Collection>(_ values: C) -> String where C.Element == Float {
        "[" + values.map { $0.isFinite ? "\($0)" : "null" }.joined(separator: ",") + "]"
    }
}
