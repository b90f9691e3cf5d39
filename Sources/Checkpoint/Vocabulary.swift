import Foundation

/// The spellings of the special tokens a model's inputs need, by their role.
public struct SpecialTokens: Sendable, Equatable, Hashable {
    public var pad, unk, cls, sep, mask: String
    public init(pad: String, unk: String, cls: String, sep: String, mask: String) {
        self.pad = pad; self.unk = unk; self.cls = cls; self.sep = sep; self.mask = mask
    }
    /// BERT, DistilBERT and ELECTRA (WordPiece): `[PAD] [UNK] [CLS] [SEP] [MASK]`.
    public static let bert = SpecialTokens(pad: "[PAD]", unk: "[UNK]", cls: "[CLS]", sep: "[SEP]", mask: "[MASK]")
    /// RoBERTa (byte-level BPE): `<pad> <unk> <s> </s> <mask>`; `<s>` plays `[CLS]`, `</s>` plays `[SEP]`.
    public static let roberta = SpecialTokens(pad: "<pad>", unk: "<unk>", cls: "<s>", sep: "</s>", mask: "<mask>")
}

/// A vocabulary: tokens by id and the ids of the special tokens. For WordPiece it is `vocab.txt` with one
/// token per line, the line index (from 0) being the token id: this is the one reader of vocab.txt, for the
/// tokenizer and for model directories alike. A byte-level BPE's vocab.json builds one with `init(tokens:specials:)`.
///
/// Reading follows Hugging Face `tokenizers` (`WordPiece::read_file`): the file is split into
/// lines at `\n`, and trailing Unicode `White_Space` (the `\r` of CRLF included) is not part of a
/// token. Where `tokenizers` lets a token that appears twice silently take the later id (leaving
/// the earlier id without a token), this reader rejects the file with an error naming both lines.
/// The special tokens (`[PAD]`, `[UNK]`, `[CLS]`, `[SEP]` and `[MASK]` for BERT) must be present.
public struct Vocabulary: Equatable, Sendable {
    /// Tokens by id.
    public let tokens: [String]
    /// Ids by token.
    public let ids: [String: Int32]

    public let padId: Int32
    public let unkId: Int32
    public let clsId: Int32
    public let sepId: Int32
    public let maskId: Int32
    /// How the special tokens are spelt.
    public let specials: SpecialTokens

    /// Builds a vocabulary from tokens in id order. `source` names where they came from in errors,
    /// which give 1-based line numbers (token id + 1).
    public init(tokens: [String], specials: SpecialTokens = .bert, source: String = "<vocabulary>") throws {
        guard !tokens.isEmpty else {
            throw CheckpointError.invalidVocabulary(file: source, line: 1, reason: "no tokens")
        }
        var ids = [String: Int32](minimumCapacity: tokens.count)
        for (index, token) in tokens.enumerated() {
            if let first = ids[token] {
                throw CheckpointError.invalidVocabulary(
                    file: source, line: index + 1,
                    reason: "token '\(token)' repeats line \(first + 1) (ids would be ambiguous)")
            }
            if token.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) {
                throw CheckpointError.invalidVocabulary(file: source, line: index + 1, reason: "token contains a line break")
            }
            ids[token] = Int32(index)
        }
        func special(_ token: String) throws -> Int32 {
            guard let id = ids[token] else { throw CheckpointError.missingSpecialToken(file: source, token: token) }
            return id
        }
        self.tokens = tokens
        self.ids = ids
        self.padId = try special(specials.pad)
        self.unkId = try special(specials.unk)
        self.clsId = try special(specials.cls)
        self.sepId = try special(specials.sep)
        self.maskId = try special(specials.mask)
        self.specials = specials
    }

    /// Reads `vocab.txt` (UTF-8; LF or CRLF line ends; a final line end is optional).
    public init(contentsOf url: URL) throws {
        let data = try CheckpointError.contents(of: url)
        try self.init(data: data, source: url.path)
    }

    /// Reads the bytes of a `vocab.txt`; `source` names them in errors.
    public init(data: Data, source: String) throws {
        // Split the bytes, not Characters: as a Character, "\r\n" is one grapheme.
        var lines: [String] = []
        for (index, bytes) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            guard var token = String(validating: bytes, as: UTF8.self) else {
                throw CheckpointError.invalidVocabulary(file: source, line: index + 1, reason: "not valid UTF-8")
            }
            // Rust's `str::trim_end`, which `tokenizers` applies to every line, drops Unicode White_Space.
            while let last = token.unicodeScalars.last, last.properties.isWhitespace {
                token.unicodeScalars.removeLast()
            }
            lines.append(token)
        }
        // The line end after the last token does not start another token.
        if lines.last == "", data.last == UInt8(ascii: "\n") || data.isEmpty { lines.removeLast() }
        try self.init(tokens: lines, specials: .bert, source: source)
    }

    /// Number of tokens.
    public var count: Int { tokens.count }

    /// FNV-1a (64 bits, hex) of the tokens in id order and the special tokens' spellings.
    public var contentHash: String {
        var hasher = Fingerprinter()
        for text in tokens + [specials.pad, specials.unk, specials.cls, specials.sep, specials.mask] {
            hasher.add(text)
            hasher.add("\n")
        }
        return hasher.value
    }

    /// The id of `token`, or nil when it is not in the vocabulary.
    public func id(for token: String) -> Int32? { ids[token] }

    /// The token with id `id`, or nil when `id` is out of range.
    public func token(for id: Int32) -> String? {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil
    }

    /// Writes one token per line, each ending with `\n`; `init(contentsOf:)` reads it back unchanged
    /// (tokens with trailing whitespace excepted: vocab.txt cannot hold them).
    public func write(to url: URL) throws {
        do {
            try Data(tokens.map { $0 + "\n" }.joined().utf8).write(to: url, options: .atomic)
        } catch {
            throw CheckpointError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }

    public static func == (lhs: Vocabulary, rhs: Vocabulary) -> Bool { lhs.tokens == rhs.tokens && lhs.specials == rhs.specials }
}
