import Checkpoint

/// Which task heads a model carries besides the encoder.
public struct ModelHeads: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// `qa_outputs`: start/end logits per token.
    public static let span = ModelHeads(rawValue: 1)
    /// `cls.predictions`: masked-language-model logits, decoder tied to the word embeddings.
    public static let mlm = ModelHeads(rawValue: 2)
}

/// A training-only tensor appended after a model's own (a distillation projection): it shares the flat
/// buffer, so the optimizer, the EMA, checkpoints and the data-parallel allreduce treat it like any
/// weight, and it never reaches an exported model (`keepingHeads`).
public struct AuxiliaryTensor: Sendable, Hashable {
    public let name: String
    public let shape: [Int]
    public let decays: Bool
    public init(name: String, shape: [Int], decays: Bool) { self.name = name; self.shape = shape; self.decays = decays }
}

/// One named tensor inside the flat parameter buffer.
public struct ParameterEntry: Sendable, Equatable {
    /// Hugging Face name as in `BertForQuestionAnswering` / `BertForMaskedLM` (`bert.` prefix on the encoder).
    public let name: String
    public let shape: [Int]
    /// Offset in floats from the start of the buffer.
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset..<(offset + count) }
    /// Whether AdamW applies weight decay: every weight matrix and embedding table, never a bias or a
    /// LayerNorm parameter (D-NET and BERT exclude those).
    public let decays: Bool
}

/// Offsets of one encoder layer's tensors. Query, key and value weights are adjacent, so that `qkvWeight`
/// is one [3C, C] matrix and `qkvBias` one [3C] vector.
public struct LayerOffsets: Sendable {
    public let qkvWeight, qkvBias: Int                           // [3C, C], [3C]
    public let attentionOutputWeight, attentionOutputBias: Int   // [C, C], [C]
    public let attentionNormWeight, attentionNormBias: Int       // [C], [C]
    public let intermediateWeight, intermediateBias: Int         // [I, C], [I]
    public let outputWeight, outputBias: Int                     // [C, I], [C]
    public let outputNormWeight, outputNormBias: Int             // [C], [C]
}

/// Offsets of the embedding tables and their LayerNorm (E = the embedding width, C unless ELECTRA says
/// otherwise), and of ELECTRA's projection to the hidden width.
public struct EmbeddingOffsets: Sendable {
    public let word, position: Int              // [V, E], [P, E]
    public let tokenType: Int?                  // [TV, E]; nil without token types (DistilBERT)
    public let normWeight, normBias: Int        // [E], [E]
    public let projectionWeight, projectionBias: Int?   // [C, E], [C] when E ≠ C (ELECTRA)
}

/// Offsets of the span head (`qa_outputs`).
public struct SpanHeadOffsets: Sendable {
    public let weight, bias: Int                // [2, C], [2]
}

/// Offsets of the MLM head; its decoder weight is the word embedding table.
public struct MLMHeadOffsets: Sendable {
    public let transformWeight, transformBias: Int   // [C, C], [C]
    public let normWeight, normBias: Int             // [C], [C]
    public let outputBias: Int                       // [V]
}

/// The layout of every parameter of a BERT with the chosen heads in one flat Float buffer, in Hugging Face
/// names. Parameters, gradients, Adam moments and EMA weights all use it, so an optimizer is one loop.
public struct ParameterLayout: Sendable {
    public let config: BertConfig
    public let heads: ModelHeads
    /// Every tensor, in buffer order.
    public let entries: [ParameterEntry]
    /// Total floats.
    public let count: Int
    public let embeddings: EmbeddingOffsets
    public let layers: [LayerOffsets]
    public let spanHead: SpanHeadOffsets?
    public let mlmHead: MLMHeadOffsets?
    /// Training-only tensors after the heads, in buffer order.
    public let auxiliary: [AuxiliaryTensor]
    private let indexByName: [String: Int]

    public init(config: BertConfig, heads: ModelHeads, auxiliary: [AuxiliaryTensor] = []) {
        let C = config.hiddenSize, I = config.intermediateSize, E = config.embeddingWidth
        var entries: [ParameterEntry] = []
        var offset = 0
        @discardableResult
        func add(_ name: String, _ shape: [Int], decays: Bool) -> Int {
            entries.append(ParameterEntry(name: name, shape: shape, offset: offset, decays: decays))
            defer { offset += shape.reduce(1, *) }
            return offset
        }
        let e = "bert.embeddings."
        embeddings = EmbeddingOffsets(
            word: add(e + "word_embeddings.weight", [config.vocabSize, E], decays: true),
            position: add(e + "position_embeddings.weight", [config.maxPositionEmbeddings, E], decays: true),
            tokenType: config.architecture.hasTokenTypes
                ? add(e + "token_type_embeddings.weight", [config.typeVocabSize, E], decays: true) : nil,
            normWeight: add(e + "LayerNorm.weight", [E], decays: false),
            normBias: add(e + "LayerNorm.bias", [E], decays: false),
            projectionWeight: config.projectsEmbeddings ? add("bert.embeddings_project.weight", [C, E], decays: true) : nil,
            projectionBias: config.projectsEmbeddings ? add("bert.embeddings_project.bias", [C], decays: false) : nil)
        var layers: [LayerOffsets] = []
        for l in 0..<config.numHiddenLayers {
            let p = "bert.encoder.layer.\(l)."
            let qkvWeight = add(p + "attention.self.query.weight", [C, C], decays: true)
            add(p + "attention.self.key.weight", [C, C], decays: true)
            add(p + "attention.self.value.weight", [C, C], decays: true)
            let qkvBias = add(p + "attention.self.query.bias", [C], decays: false)
            add(p + "attention.self.key.bias", [C], decays: false)
            add(p + "attention.self.value.bias", [C], decays: false)
            layers.append(LayerOffsets(
                qkvWeight: qkvWeight, qkvBias: qkvBias,
                attentionOutputWeight: add(p + "attention.output.dense.weight", [C, C], decays: true),
                attentionOutputBias: add(p + "attention.output.dense.bias", [C], decays: false),
                attentionNormWeight: add(p + "attention.output.LayerNorm.weight", [C], decays: false),
                attentionNormBias: add(p + "attention.output.LayerNorm.bias", [C], decays: false),
                intermediateWeight: add(p + "intermediate.dense.weight", [I, C], decays: true),
                intermediateBias: add(p + "intermediate.dense.bias", [I], decays: false),
                outputWeight: add(p + "output.dense.weight", [C, I], decays: true),
                outputBias: add(p + "output.dense.bias", [C], decays: false),
                outputNormWeight: add(p + "output.LayerNorm.weight", [C], decays: false),
                outputNormBias: add(p + "output.LayerNorm.bias", [C], decays: false)))
        }
        self.layers = layers
        spanHead = heads.contains(.span)
            ? SpanHeadOffsets(weight: add("qa_outputs.weight", [2, C], decays: true),
                              bias: add("qa_outputs.bias", [2], decays: false))
            : nil
        if heads.contains(.mlm) {
            let t = "cls.predictions.transform."
            mlmHead = MLMHeadOffsets(
                transformWeight: add(t + "dense.weight", [C, C], decays: true),
                transformBias: add(t + "dense.bias", [C], decays: false),
                normWeight: add(t + "LayerNorm.weight", [C], decays: false),
                normBias: add(t + "LayerNorm.bias", [C], decays: false),
                outputBias: add("cls.predictions.bias", [config.vocabSize], decays: false))
        } else {
            mlmHead = nil
        }
        for tensor in auxiliary { add(tensor.name, tensor.shape, decays: tensor.decays) }
        self.auxiliary = auxiliary
        self.config = config
        self.heads = heads
        self.entries = entries
        self.count = offset
        indexByName = Dictionary(entries.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in
            preconditionFailure("two parameters named \(entries[first].name)")
        })
    }

    /// The entry named `name` (Hugging Face name with the `bert.` prefix on encoder tensors).
    public func entry(_ name: String) -> ParameterEntry? {
        indexByName[name].map { entries[$0] }
    }

    /// Buffer ranges that get weight decay, merged where adjacent.
    public var decayRanges: [Range<Int>] {
        var ranges: [Range<Int>] = []
        for entry in entries where entry.decays {
            if let last = ranges.last, last.upperBound == entry.offset {
                ranges[ranges.count - 1] = last.lowerBound..<entry.range.upperBound
            } else {
                ranges.append(entry.range)
            }
        }
        return ranges
    }
}
