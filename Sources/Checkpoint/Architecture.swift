/// The encoder families this package runs. They share one encoder (post-LayerNorm Transformer layers with
/// GELU) and differ only in their embeddings, their tensor and config names, and their tokenizer:
///
/// | model_type | embeddings | positions | token types | tokenizer |
/// |---|---|---|---|---|
/// | bert | word + position + type, LayerNorm | 0, 1, 2, … | 0 / 1 | WordPiece |
/// | roberta | as BERT | padding_idx + 1, + 2, … (padding at padding_idx) | one row, always 0 | byte-level BPE |
/// | distilbert | word + position, LayerNorm | 0, 1, 2, … | none | WordPiece |
/// | electra | as BERT in `embedding_size`, then a projection to `hidden_size` when they differ | 0, 1, 2, … | 0 / 1 | WordPiece |
///
/// DistilBERT also has no dropout after its attention output projection (`out_lin`), and its config.json
/// spells the sizes its own way (`dim`, `n_layers`, `n_heads`, `hidden_dim`, …).
public enum Architecture: String, Sendable, CaseIterable, Codable {
    case bert, roberta, distilbert, electra

    /// The architecture of a config.json `model_type` (absent: BERT, as for older BERT checkpoints).
    public init(modelType: String?, file: String) throws {
        guard let modelType else { self = .bert; return }
        guard let architecture = Architecture(rawValue: modelType) else {
            throw CheckpointError.invalidConfig(file: file, field: "model_type", reason: "'\(modelType)' is not supported "
                                                + "(supported: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = architecture
    }

    /// The name of the model inside a task model's checkpoint (`bert.`, `roberta.`, …).
    public var prefix: String { rawValue + "." }

    /// The `transformers` class of a span-QA model.
    public var questionAnsweringClass: String {
        switch self {
        case .bert: return "BertForQuestionAnswering"
        case .roberta: return "RobertaForQuestionAnswering"
        case .distilbert: return "DistilBertForQuestionAnswering"
        case .electra: return "ElectraForQuestionAnswering"
        }
    }

    /// The `transformers` class of a masked-language model with a head tied to the word embeddings (nil:
    /// ELECTRA's discriminator has none).
    public var maskedLMClass: String? {
        switch self {
        case .bert: return "BertForMaskedLM"
        case .roberta: return "RobertaForMaskedLM"
        case .distilbert: return "DistilBertForMaskedLM"
        case .electra: return nil
        }
    }

    /// Whether positions count from `pad_token_id + 1` and padding takes position `pad_token_id` (RoBERTa's
    /// `create_position_ids_from_input_ids`).
    public var positionsAfterPadding: Bool { self == .roberta }

    /// Whether the model adds a token-type embedding (DistilBERT has no table).
    public var hasTokenTypes: Bool { self != .distilbert }

    /// Whether dropout follows the attention output projection (DistilBERT's `out_lin` has none).
    public var dropoutAfterAttentionOutput: Bool { self != .distilbert }

    /// config.json's name for a field `BertConfig` calls by BERT's name (DistilBERT renames the sizes).
    public func configKey(_ bertKey: String) -> String {
        guard self == .distilbert else { return bertKey }
        return Self.distilBertConfigKeys[bertKey] ?? bertKey
    }

    private static let distilBertConfigKeys = [
        "hidden_size": "dim", "num_hidden_layers": "n_layers", "num_attention_heads": "n_heads",
        "intermediate_size": "hidden_dim", "hidden_act": "activation", "hidden_dropout_prob": "dropout",
        "attention_probs_dropout_prob": "attention_dropout",
    ]
}
