import Foundation

/// A model directory's tokenizer as its files describe it: WordPiece (`vocab.txt`, BERT, DistilBERT, ELECTRA)
/// or byte-level BPE (`vocab.json` + `merges.txt`, RoBERTa), with the settings of `tokenizer_config.json`.
/// The Text target builds the tokenizer from it (`TokenizerFiles.makeTokenizer`).
public struct TokenizerFiles: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// `do_lower_case` (absent: true, as BERT's uncased models).
        case wordPiece(lowercase: Bool)
        /// `add_prefix_space` (default false) and `trim_offsets` (default true), as `RobertaTokenizerFast` reads them.
        case byteLevelBPE(merges: BPEMerges, addPrefixSpace: Bool, trimOffsets: Bool)
    }

    public var vocabulary: Vocabulary
    public var kind: Kind

    public init(vocabulary: Vocabulary, kind: Kind) {
        self.vocabulary = vocabulary
        self.kind = kind
    }

    /// Lower-casing (WordPiece's `do_lower_case`; never for byte-level BPE).
    public var lowercase: Bool {
        if case let .wordPiece(lowercase) = kind { return lowercase }
        return false
    }

    /// The file the vocabulary comes from.
    public var vocabularyFileName: String {
        if case .wordPiece = kind { return "vocab.txt" }
        return "vocab.json"
    }

    /// The tokenizer files in `directory`: vocab.txt, or vocab.json with merges.txt; nil when it has neither.
    public static func load(_ directory: URL) throws -> TokenizerFiles? {
        let config = try readConfig(directory)
        let vocabTxt = directory.appendingPathComponent("vocab.txt")
        let vocabJSON = directory.appendingPathComponent("vocab.json")
        let merges = directory.appendingPathComponent("merges.txt")
        let manager = FileManager.default
        if manager.fileExists(atPath: vocabTxt.path) {
            return TokenizerFiles(vocabulary: try Vocabulary(contentsOf: vocabTxt),
                                  kind: .wordPiece(lowercase: try config.bool("do_lower_case") ?? true))
        }
        guard manager.fileExists(atPath: vocabJSON.path) else { return nil }
        guard manager.fileExists(atPath: merges.path) else {
            throw CheckpointError.unreadable(file: merges.path, reason: "vocab.json needs its merges.txt (a byte-level BPE)")
        }
        let defaults = SpecialTokens.roberta
        let specials = SpecialTokens(pad: try config.token("pad_token") ?? defaults.pad, unk: try config.token("unk_token") ?? defaults.unk,
                                     cls: try config.token("cls_token") ?? config.token("bos_token") ?? defaults.cls,
                                     sep: try config.token("sep_token") ?? config.token("eos_token") ?? defaults.sep,
                                     mask: try config.token("mask_token") ?? defaults.mask)
        return TokenizerFiles(vocabulary: try Vocabulary(jsonContentsOf: vocabJSON, specials: specials),
                              kind: .byteLevelBPE(merges: try BPEMerges(contentsOf: merges),
                                                  addPrefixSpace: try config.bool("add_prefix_space") ?? false,
                                                  trimOffsets: try config.bool("trim_offsets") ?? true))
    }

    /// Writes the vocabulary files and tokenizer_config.json into `directory`, as `transformers` reads them
    /// (`BertTokenizerFast` / `RobertaTokenizerFast.from_pretrained`); `maxLength` is `model_max_length`.
    public func write(to directory: URL, maxLength: Int) throws {
        let s = vocabulary.specials
        var settings: [String: JSONValue] = [
            "model_max_length": .int(maxLength), "unk_token": .string(s.unk), "sep_token": .string(s.sep),
            "pad_token": .string(s.pad), "cls_token": .string(s.cls), "mask_token": .string(s.mask),
        ]
        switch kind {
        case let .wordPiece(lowercase):
            try vocabulary.write(to: directory.appendingPathComponent("vocab.txt"))
            settings.merge(["tokenizer_class": .string("BertTokenizer"), "do_lower_case": .bool(lowercase),
                            "do_basic_tokenize": .bool(true), "tokenize_chinese_chars": .bool(true), "strip_accents": .null]) { $1 }
        case let .byteLevelBPE(merges, addPrefixSpace, trimOffsets):
            try vocabulary.writeJSON(to: directory.appendingPathComponent("vocab.json"))
            try merges.write(to: directory.appendingPathComponent("merges.txt"))
            settings.merge(["tokenizer_class": .string("RobertaTokenizer"), "add_prefix_space": .bool(addPrefixSpace),
                            "trim_offsets": .bool(trimOffsets), "bos_token": .string(s.cls), "eos_token": .string(s.sep)]) { $1 }
        }
        let url = directory.appendingPathComponent("tokenizer_config.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(settings).write(to: url, options: .atomic)
        } catch {
            throw CheckpointError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }

    /// tokenizer_config.json's object (empty when the file is absent).
    private static func readConfig(_ directory: URL) throws -> TokenizerConfig {
        let url = directory.appendingPathComponent("tokenizer_config.json")
        guard let data = FileManager.default.contents(atPath: url.path) else { return TokenizerConfig(file: url.path, object: [:]) }
        guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: data) else {
            throw CheckpointError.invalidConfig(file: url.path, field: "(file)", reason: "not a JSON object")
        }
        return TokenizerConfig(file: url.path, object: object)
    }
}

/// The fields of tokenizer_config.json this package reads.
private struct TokenizerConfig {
    let file: String
    let object: [String: JSONValue]

    func bool(_ key: String) throws -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case let .bool(value)?: return value
        default: throw CheckpointError.invalidConfig(file: file, field: key, reason: "not a boolean")
        }
    }

    /// A special token: a string, or an `AddedToken` object with its `content`.
    func token(_ key: String) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case let .string(value)?: return value
        case let .object(fields)?:
            if case let .string(value)? = fields["content"] { return value }
            fallthrough
        default: throw CheckpointError.invalidConfig(file: file, field: key, reason: "not a token (a string or an object with \"content\")")
        }
    }
}
