import Checkpoint

/// How a question and a context become one model input: `cls question sep×between context sep`.
///
/// BERT, DistilBERT and ELECTRA: `[CLS] q [SEP] c [SEP]`, token types 0 then 1. RoBERTa:
/// `<s> q </s></s> c </s>`, every token type 0 (Hugging Face's `RobertaProcessing`).
public struct PairTemplate: Sendable, Equatable, Hashable {
    /// Separators between the question and the context (1 for BERT, 2 for RoBERTa).
    public var separatorsBetween: Int
    /// The token type of the context and its closing separator (1 for BERT, 0 where there are no types).
    public var contextTypeId: Int32

    public init(separatorsBetween: Int, contextTypeId: Int32) {
        self.separatorsBetween = separatorsBetween
        self.contextTypeId = contextTypeId
    }

    public static let bert = PairTemplate(separatorsBetween: 1, contextTypeId: 1)
    public static let roberta = PairTemplate(separatorsBetween: 2, contextTypeId: 0)

    /// Special tokens in one input: the leading one, those between, the closing one.
    public var specialTokenCount: Int { separatorsBetween + 2 }
    /// Position of the first context token after `questionTokens` question tokens.
    public func contextStart(questionTokens: Int) -> Int { 1 + questionTokens + separatorsBetween }
}

/// A tokenizer whose encodings carry character offsets (as Hugging Face `tokenizers` do): WordPiece for
/// BERT, DistilBERT and ELECTRA, byte-level BPE for RoBERTa.
public protocol Tokenizer: Sendable {
    /// Tokens by id and the special tokens' ids.
    var vocabulary: Vocabulary { get }
    /// Whether the text is lowercased before tokenisation (false for byte-level BPE).
    var lowercase: Bool { get }
    /// How a question and a context are joined.
    var pairTemplate: PairTemplate { get }
    /// Everything that decides the ids a text gets (the kind, the vocabulary, the merges, the settings), as
    /// one string: two tokenizers with the same signature tokenise every text alike.
    var signature: String { get }
    /// Tokenises `text` without adding special tokens; offsets count Unicode scalars.
    func encode(_ text: String) -> Encoding
}

extension Tokenizer {
    /// Whether `other` gives every text the same ids.
    public func tokenisesLike(_ other: any Tokenizer) -> Bool { signature == other.signature }
}
