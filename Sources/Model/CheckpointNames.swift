import Checkpoint

/// How each architecture names its tensors in a Hugging Face checkpoint. The model keeps one set of names,
/// BERT's (`bert.encoder.layer.0.attention.self.query.weight`, `cls.predictions.bias`, `qa_outputs.weight`,
/// and `bert.embeddings_project.*` for ELECTRA's projection); this is the only place that knows the others.
///
/// | BERT (ours) | RoBERTa | DistilBERT | ELECTRA |
/// |---|---|---|---|
/// | `bert.` | `roberta.` | `distilbert.` (`encoder.` → `transformer.`) | `electra.` |
/// | `attention.self.query/key/value` | same | `attention.q_lin/k_lin/v_lin` | same |
/// | `attention.output.dense` / `.LayerNorm` | same | `attention.out_lin` / `sa_layer_norm` | same |
/// | `intermediate.dense`, `output.dense` / `.LayerNorm` | same | `ffn.lin1`, `ffn.lin2` / `output_layer_norm` | same |
/// | `cls.predictions.transform.dense` / `.LayerNorm`, `cls.predictions.bias` | `lm_head.dense` / `.layer_norm`, `lm_head.bias` | `vocab_transform`, `vocab_layer_norm`, `vocab_projector.bias` | — |
///
/// Tensors a span-QA model does not use are ignored on load: position ids, poolers, BERT's NSP head, the tied
/// MLM decoders, ELECTRA's discriminator and generator heads.
public enum CheckpointNames {
    /// The checkpoint's name for the model's tensor `name` (names the table does not cover, such as a training
    /// checkpoint's auxiliary tensors, are kept).
    public static func fileName(_ name: String, _ architecture: Architecture) -> String {
        for (ours, theirs) in renames(architecture) where name.hasPrefix(ours) {
            return theirs + name.dropFirst(ours.count)
        }
        guard architecture == .distilbert, name.hasPrefix(encoderLayer) else { return name }
        let rest = name.dropFirst(encoderLayer.count)
        guard let dot = rest.firstIndex(of: ".") else { return name }
        let tensor = rest[rest.index(after: dot)...]
        for (ours, theirs) in distilBertLayer where tensor.hasPrefix(ours) {
            return "distilbert.transformer.layer." + rest[..<dot] + "." + theirs + tensor.dropFirst(ours.count)
        }
        return name
    }

    /// The model's name for checkpoint key `key`, or nil for a tensor to ignore. Keys already in BERT's names
    /// (our training checkpoints, ema.safetensors) are accepted for every architecture; so are a base model's
    /// keys without the model prefix (`embeddings.…` as `RobertaModel.save_pretrained` writes them).
    public static func modelName(_ key: String, _ architecture: Architecture) -> String? {
        var key = key
        let prefix = architecture.prefix
        if ["embeddings.", "encoder.", "transformer.", "pooler.", "embeddings_project."].contains(where: key.hasPrefix) {
            key = prefix + key
        }
        if key.hasSuffix("position_ids") || ignored(architecture).contains(where: key.hasPrefix) { return nil }
        if architecture == .bert, key == "cls.predictions.decoder.bias" { return "cls.predictions.bias" }
        if architecture == .roberta, key == "lm_head.decoder.bias" { return "cls.predictions.bias" }
        for (ours, theirs) in renames(architecture) where key.hasPrefix(theirs) {
            return ours + key.dropFirst(theirs.count)
        }
        let distilLayer = "distilbert.transformer.layer."
        if architecture == .distilbert, key.hasPrefix(distilLayer) {
            let rest = key.dropFirst(distilLayer.count)
            guard let dot = rest.firstIndex(of: ".") else { return key }
            let tensor = rest[rest.index(after: dot)...]
            for (ours, theirs) in distilBertLayer where tensor.hasPrefix(theirs) {
                return encoderLayer + rest[..<dot] + "." + ours + tensor.dropFirst(theirs.count)
            }
        }
        return key
    }

    private static let encoderLayer = "bert.encoder.layer."

    /// Prefix renames, longest first within an architecture: (ours, theirs).
    private static func renames(_ architecture: Architecture) -> [(String, String)] {
        switch architecture {
        case .bert: return []
        case .roberta:
            return [("cls.predictions.transform.dense.", "lm_head.dense."),
                    ("cls.predictions.transform.LayerNorm.", "lm_head.layer_norm."),
                    ("cls.predictions.bias", "lm_head.bias"), ("bert.", "roberta.")]
        case .distilbert:
            return [("cls.predictions.transform.dense.", "vocab_transform."),
                    ("cls.predictions.transform.LayerNorm.", "vocab_layer_norm."),
                    ("cls.predictions.bias", "vocab_projector.bias"), ("bert.embeddings.", "distilbert.embeddings.")]
        case .electra: return [("bert.", "electra.")]
        }
    }

    /// DistilBERT's names inside a layer: (ours, theirs).
    private static let distilBertLayer = [
        ("attention.self.query.", "attention.q_lin."), ("attention.self.key.", "attention.k_lin."),
        ("attention.self.value.", "attention.v_lin."), ("attention.output.dense.", "attention.out_lin."),
        ("attention.output.LayerNorm.", "sa_layer_norm."), ("intermediate.dense.", "ffn.lin1."),
        ("output.dense.", "ffn.lin2."), ("output.LayerNorm.", "output_layer_norm."),
    ]

    /// Key prefixes of tensors a span-QA model (with or without its MLM head) does not use.
    private static func ignored(_ architecture: Architecture) -> [String] {
        switch architecture {
        case .bert: return ["bert.pooler.", "cls.seq_relationship.", "cls.predictions.decoder.weight"]
        case .roberta: return ["roberta.pooler.", "lm_head.decoder.weight"]
        case .distilbert: return ["vocab_projector.weight"]
        case .electra: return ["electra.pooler.", "discriminator_predictions.", "generator_predictions.", "generator_lm_head."]
        }
    }
}
