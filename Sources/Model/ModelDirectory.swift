import Checkpoint
import Foundation

/// What to do with a task head when loading a checkpoint.
public enum HeadPolicy: Sendable, Equatable {
    /// Leave the head out of the model (its tensors in the file are ignored).
    case omit
    /// Include the head when the file has it.
    case ifPresent
    /// The file must have it.
    case require
    /// Load it when present, else initialise it as Hugging Face does (weights N(0, initializer_range²),
    /// biases 0, LayerNorm weights 1) from this seed.
    case initialiseIfMissing(seed: UInt64)
}

/// A model loaded from a directory, with what the load had to make up.
public struct LoadedModel {
    public let model: BertModel
    /// The tokenizer's files (vocab.txt, or vocab.json + merges.txt), when the directory has them.
    public let tokenizer: TokenizerFiles?
    /// Names of the parameters initialised because the checkpoint lacked them.
    public let initialised: [String]

    /// The tokenizer's vocabulary, when the directory has one.
    public var vocabulary: Vocabulary? { tokenizer?.vocabulary }
    /// Whether the tokenizer lower-cases, when the directory has one.
    public var doLowerCase: Bool? { tokenizer?.lowercase }
}

/// A Hugging Face model directory: config.json, model.safetensors, and the tokenizer's files
/// (vocab.txt or vocab.json + merges.txt, tokenizer_config.json).
public enum ModelDirectory {
    /// Loads the model in `directory` (any `Architecture`; tensor names as `CheckpointNames` reads them).
    public static func load(_ directory: URL, spanHead: HeadPolicy = .ifPresent, mlmHead: HeadPolicy = .omit) throws -> LoadedModel {
        let config = try BertConfig.load(from: directory.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
        let tokenizer = try TokenizerFiles.load(directory)
        if let vocabulary = tokenizer?.vocabulary, vocabulary.count != config.vocabSize {
            throw CheckpointError.invalidVocabulary(file: directory.appendingPathComponent(tokenizer!.vocabularyFileName).path, line: vocabulary.count,
                                                    reason: "\(vocabulary.count) tokens, config.json says vocab_size \(config.vocabSize)")
        }
        let (parameters, initialised) = try loadParameters(from: file, config: config, spanHead: spanHead, mlmHead: mlmHead)
        return LoadedModel(model: BertModel(parameters: parameters), tokenizer: tokenizer, initialised: initialised)
    }

    /// Fills a parameter buffer for `config` from `file`, applying the head policies; `auxiliary` tensors
    /// (a training checkpoint's) must be in the file.
    public static func loadParameters(from file: SafeTensorsFile, config: BertConfig, spanHead: HeadPolicy,
                                      mlmHead: HeadPolicy, auxiliary: [AuxiliaryTensor] = []) throws -> (ParameterBuffer, initialised: [String]) {
        var byName: [String: String] = [:]  // the model's name → file key
        for key in file.tensors.keys.sorted() {
            guard let name = CheckpointNames.modelName(key, config.architecture) else { continue }
            // Older checkpoints store the MLM output bias as the decoder's bias (tied to it): the real bias wins.
            if let other = byName[name], !other.contains("decoder") { continue }
            byName[name] = key
        }
        func has(_ prefix: String) -> Bool { byName.keys.contains { $0.hasPrefix(prefix) } }
        var heads: ModelHeads = []
        for (head, policy, prefix, label) in [(ModelHeads.span, spanHead, "qa_outputs.", "span head (qa_outputs.*)"),
                                              (ModelHeads.mlm, mlmHead, "cls.predictions.", "MLM head (cls.predictions.*)")] {
            switch policy {
            case .omit: continue
            case .ifPresent: if has(prefix) { heads.insert(head) }
            case .require:
                guard has(prefix) else { throw CheckpointError.missingTensor(file: file.source, tensor: label) }
                heads.insert(head)
            case .initialiseIfMissing: heads.insert(head)
            }
        }
        if heads.contains(.mlm), config.projectsEmbeddings {
            throw CheckpointError.invalidConfig(file: file.source, field: "embedding_size", reason: "an MLM head is tied to the word "
                                                + "embeddings, which are \(config.embeddingWidth) wide, not hidden_size \(config.hiddenSize)")
        }
        let layout = ParameterLayout(config: config, heads: heads, auxiliary: auxiliary)
        let parameters = ParameterBuffer(layout: layout)
        var initialised: [String] = []
        for entry in layout.entries {
            guard let key = byName.removeValue(forKey: entry.name) else {
                let policy = entry.name.hasPrefix("qa_outputs.") ? spanHead : entry.name.hasPrefix("cls.") ? mlmHead : .require
                guard case let .initialiseIfMissing(seed) = policy else {
                    throw CheckpointError.missingTensor(file: file.source, tensor: entry.name)
                }
                // One generator per tensor, seeded by the seed and the tensor's name: the result does not
                // depend on which other tensors were missing.
                var generator = SeededGenerator(seed: seed ^ stableHash(entry.name))
                parameters.initialise(entry.name, std: Float(config.initializerRange), generator: &generator)
                initialised.append(entry.name)
                continue
            }
            let info = try file.info(key)
            guard info.shape == entry.shape else {
                throw CheckpointError.shapeMismatch(file: file.source, tensor: key, expected: entry.shape, found: info.shape)
            }
            try file.readFloats(key, into: parameters[entry.name])
        }
        // Whatever is left belongs to a head that was omitted, or to nothing we know.
        for (name, key) in byName.sorted(by: { $0.key < $1.key }) {
            let omittedHead = (name.hasPrefix("qa_outputs.") && !heads.contains(.span)) || (name.hasPrefix("cls.predictions.") && !heads.contains(.mlm))
            if !omittedHead { throw CheckpointError.unexpectedTensor(file: file.source, tensor: key) }
        }
        return (parameters, initialised)
    }

    /// Writes config.json, model.safetensors (the architecture's names, F32) and the tokenizer's files into
    /// `directory` (created if needed), loadable by Hugging Face's `…ForQuestionAnswering.from_pretrained` /
    /// `…ForMaskedLM.from_pretrained` of the architecture and its tokenizer's `from_pretrained`.
    public static func save(_ model: BertModel, tokenizer: TokenizerFiles, to directory: URL) throws {
        let vocabulary = tokenizer.vocabulary
        guard vocabulary.count == model.config.vocabSize else {
            throw CheckpointError.invalidVocabulary(file: directory.path, line: vocabulary.count,
                                                    reason: "\(vocabulary.count) tokens for a model with vocab_size \(model.config.vocabSize)")
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError.unwritable(file: directory.path, reason: error.localizedDescription)
        }
        var config = model.config
        let architecture = config.architecture
        config.extra["architectures"] = .array([.string(model.heads.contains(.span) || !model.heads.contains(.mlm)
                                                        ? architecture.questionAnsweringClass
                                                        : architecture.maskedLMClass ?? architecture.questionAnsweringClass)])
        config.extra["tie_word_embeddings"] = .bool(true)
        try config.write(to: directory.appendingPathComponent("config.json"))
        var writer = SafeTensorsWriter()
        try model.parameters.add(to: &writer, naming: { CheckpointNames.fileName($0, architecture) })
        try writer.write(to: directory.appendingPathComponent("model.safetensors"))
        try tokenizer.write(to: directory, maxLength: model.config.maxSequenceLength)
    }

    /// `save` with a WordPiece vocabulary (vocab.txt).
    public static func save(_ model: BertModel, vocabulary: Vocabulary, doLowerCase: Bool, to directory: URL) throws {
        try save(model, tokenizer: TokenizerFiles(vocabulary: vocabulary, kind: .wordPiece(lowercase: doLowerCase)), to: directory)
    }
}

/// FNV-1a of a string's UTF-8 bytes: a hash that, unlike `Hasher`, is the same in every process.
public func stableHash(_ text: String) -> UInt64 {
    var hasher = Fingerprinter()
    hasher.add(text)
    return hasher.bits
}
