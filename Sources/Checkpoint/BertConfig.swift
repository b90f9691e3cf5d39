import Foundation

/// The fields of a Hugging Face config.json of a BERT-family encoder (`Architecture`: BERT, RoBERTa,
/// DistilBERT, ELECTRA), by BERT's names; each architecture's own spelling is `Architecture.configKey`.
/// Missing optional fields take Hugging Face's defaults; keys this type does not model are kept in `extra`
/// and written back unchanged.
public struct BertConfig: Codable, Equatable, Sendable {
    /// `model_type` (BERT when absent).
    public var architecture: Architecture = .bert
    /// ELECTRA's `embedding_size`: the width of the embedding tables when it differs from `hidden_size`.
    public var embeddingSize: Int?
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var vocabSize: Int
    public var maxPositionEmbeddings: Int = 512
    public var typeVocabSize: Int = 2
    public var layerNormEps: Double = 1e-12
    public var hiddenAct: String = "gelu"
    public var hiddenDropoutProb: Double = 0.1
    public var attentionProbsDropoutProb: Double = 0.1
    public var initializerRange: Double = 0.02
    public var padTokenId: Int = 0
    /// Every other key of the file (architectures, model_type, transformers_version, ...).
    public var extra: [String: JSONValue] = [:]

    public init(hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
                vocabSize: Int, maxPositionEmbeddings: Int = 512, typeVocabSize: Int = 2,
                layerNormEps: Double = 1e-12, hiddenAct: String = "gelu", hiddenDropoutProb: Double = 0.1,
                attentionProbsDropoutProb: Double = 0.1, initializerRange: Double = 0.02, padTokenId: Int = 0,
                architecture: Architecture = .bert, embeddingSize: Int? = nil, extra: [String: JSONValue] = [:]) {
        self.architecture = architecture
        // ELECTRA always states its embedding width (its config's default is 128, not hidden_size).
        self.embeddingSize = embeddingSize ?? (architecture == .electra ? hiddenSize : nil)
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.vocabSize = vocabSize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.typeVocabSize = typeVocabSize
        self.layerNormEps = layerNormEps
        self.hiddenAct = hiddenAct
        self.hiddenDropoutProb = hiddenDropoutProb
        self.attentionProbsDropoutProb = attentionProbsDropoutProb
        self.initializerRange = initializerRange
        self.padTokenId = padTokenId
        self.extra = extra
    }

    /// Channels per attention head.
    public var headSize: Int { hiddenSize / numAttentionHeads }

    /// Width of the embedding tables and their LayerNorm (ELECTRA's `embedding_size`, else `hidden_size`).
    public var embeddingWidth: Int { embeddingSize ?? hiddenSize }

    /// Whether the embeddings are projected to `hidden_size` (ELECTRA with a narrower `embedding_size`).
    public var projectsEmbeddings: Bool { embeddingWidth != hiddenSize }

    /// The longest input the position table holds: `max_position_embeddings`, less RoBERTa's offset past the
    /// padding index (514 − 2 = 512).
    public var maxSequenceLength: Int {
        architecture.positionsAfterPadding ? maxPositionEmbeddings - padTokenId - 1 : maxPositionEmbeddings
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The fields modelled, by BERT's names (`Architecture.configKey` gives each architecture's).
    private static let modelled = [
        "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size",
        "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "hidden_act", "hidden_dropout_prob",
        "attention_probs_dropout_prob", "initializer_range", "pad_token_id", "embedding_size",
    ]

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        architecture = try Architecture(modelType: try container.decodeIfPresent(String.self, forKey: Key("model_type")),
                                        file: "config.json")
        let architecture = architecture
        func required<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
            try container.decode(T.self, forKey: Key(architecture.configKey(key)))
        }
        func optional<T: Decodable>(_ key: String, _ fallback: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: Key(architecture.configKey(key))) ?? fallback
        }
        hiddenSize = try required("hidden_size", Int.self)
        numHiddenLayers = try required("num_hidden_layers", Int.self)
        numAttentionHeads = try required("num_attention_heads", Int.self)
        intermediateSize = try required("intermediate_size", Int.self)
        vocabSize = try required("vocab_size", Int.self)
        maxPositionEmbeddings = try optional("max_position_embeddings", 512)
        typeVocabSize = architecture.hasTokenTypes ? try optional("type_vocab_size", 2) : 0
        layerNormEps = try optional("layer_norm_eps", 1e-12)
        hiddenAct = try optional("hidden_act", "gelu")
        hiddenDropoutProb = try optional("hidden_dropout_prob", 0.1)
        attentionProbsDropoutProb = try optional("attention_probs_dropout_prob", 0.1)
        initializerRange = try optional("initializer_range", 0.02)
        // HF writes "pad_token_id": null for some models; BERT's default is 0.
        padTokenId = (try? container.decodeIfPresent(Int.self, forKey: Key("pad_token_id"))).flatMap { $0 } ?? 0
        if architecture == .electra { embeddingSize = try optional("embedding_size", 128) }  // ElectraConfig's default
        let modelled = Set(Self.modelled.map(architecture.configKey) + ["model_type"])
        for key in container.allKeys where !modelled.contains(key.stringValue) {
            extra[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (key, value) in extra { try container.encode(value, forKey: Key(key)) }
        func put<T: Encodable>(_ value: T, _ key: String) throws {
            try container.encode(value, forKey: Key(architecture.configKey(key)))
        }
        try container.encode(architecture.rawValue, forKey: Key("model_type"))
        try put(hiddenSize, "hidden_size")
        try put(numHiddenLayers, "num_hidden_layers")
        try put(numAttentionHeads, "num_attention_heads")
        try put(intermediateSize, "intermediate_size")
        try put(vocabSize, "vocab_size")
        try put(maxPositionEmbeddings, "max_position_embeddings")
        if architecture.hasTokenTypes {  // DistilBERT has neither field (its LayerNorms use 1e-12)
            try put(typeVocabSize, "type_vocab_size")
            try put(layerNormEps, "layer_norm_eps")
        }
        try put(hiddenAct, "hidden_act")
        try put(hiddenDropoutProb, "hidden_dropout_prob")
        try put(attentionProbsDropoutProb, "attention_probs_dropout_prob")
        try put(initializerRange, "initializer_range")
        try put(padTokenId, "pad_token_id")
        if let embeddingSize { try put(embeddingSize, "embedding_size") }
    }

    /// Reads and validates config.json at `url`.
    public static func load(from url: URL) throws -> BertConfig {
        let data = try CheckpointError.contents(of: url)
        return try parse(data, file: url.path)
    }

    /// Decodes and validates config.json's bytes; `file` names them in errors.
    public static func parse(_ data: Data, file: String) throws -> BertConfig {
        let config: BertConfig
        do {
            config = try JSONDecoder().decode(BertConfig.self, from: data)
        } catch let CheckpointError.invalidConfig(_, field, reason) {
            throw CheckpointError.invalidConfig(file: file, field: field, reason: reason)
        } catch let DecodingError.keyNotFound(key, _) {
            throw CheckpointError.invalidConfig(file: file, field: key.stringValue, reason: "missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw CheckpointError.invalidConfig(file: file, field: context.codingPath.map(\.stringValue).joined(separator: "."),
                                                reason: "wrong type: \(context.debugDescription)")
        } catch {
            let reason = JSONSyntax.firstError(in: data).map { "not valid JSON at \($0)" } ?? "not a JSON object: \(error)"
            throw CheckpointError.invalidConfig(file: file, field: "(file)", reason: reason)
        }
        try config.validate(file: file)
        return config
    }

    /// Checks that the fields describe a BERT that this package can run; `file` names the source in errors.
    public func validate(file: String) throws {
        func positive(_ value: Int, _ field: String) throws {
            guard value > 0 else {
                throw CheckpointError.invalidConfig(file: file, field: architecture.configKey(field), reason: "\(value) is not positive")
            }
        }
        try positive(hiddenSize, "hidden_size")
        try positive(numHiddenLayers, "num_hidden_layers")
        try positive(numAttentionHeads, "num_attention_heads")
        try positive(intermediateSize, "intermediate_size")
        try positive(vocabSize, "vocab_size")
        try positive(maxPositionEmbeddings, "max_position_embeddings")
        if architecture.hasTokenTypes { try positive(typeVocabSize, "type_vocab_size") }
        if let embeddingSize {
            try positive(embeddingSize, "embedding_size")
            guard embeddingSize <= hiddenSize else {
                throw CheckpointError.invalidConfig(file: file, field: "embedding_size",
                                                    reason: "\(embeddingSize) is wider than hidden_size \(hiddenSize) (not supported)")
            }
        }
        if architecture.positionsAfterPadding, maxSequenceLength <= 0 {
            throw CheckpointError.invalidConfig(file: file, field: "max_position_embeddings",
                                                reason: "\(maxPositionEmbeddings) leaves no position past pad_token_id \(padTokenId)")
        }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw CheckpointError.invalidConfig(file: file, field: architecture.configKey("num_attention_heads"),
                                                reason: "\(numAttentionHeads) does not divide hidden_size \(hiddenSize)")
        }
        guard hiddenAct == "gelu" else {
            throw CheckpointError.invalidConfig(file: file, field: architecture.configKey("hidden_act"),
                                                reason: "'\(hiddenAct)' is not supported (only \"gelu\", the exact erf form)")
        }
        if case let .string(kind)? = extra["position_embedding_type"], kind != "absolute" {
            throw CheckpointError.invalidConfig(file: file, field: "position_embedding_type", reason: "'\(kind)' is not supported (only \"absolute\")")
        }
        for (field, p) in [("hidden_dropout_prob", hiddenDropoutProb), ("attention_probs_dropout_prob", attentionProbsDropoutProb)]
        where !(0..<1).contains(p) {
            throw CheckpointError.invalidConfig(file: file, field: architecture.configKey(field), reason: "\(p) is not in [0, 1)")
        }
        guard layerNormEps > 0 else {
            throw CheckpointError.invalidConfig(file: file, field: "layer_norm_eps", reason: "\(layerNormEps) is not positive")
        }
    }

    /// Writes config.json (pretty, sorted keys) to `url`.
    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            var data = try encoder.encode(self)
            data.append(0x0A)
            try data.write(to: url, options: .atomic)
        } catch {
            throw CheckpointError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }
}
