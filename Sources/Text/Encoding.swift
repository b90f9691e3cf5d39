/// The tokenisation of one text, in the shape of a Hugging Face `Encoding` without special tokens.
///
/// `offsets[i]` is the range of the input that token `i` came from, counted in Unicode scalars
/// (the indices of a Python `str`), so they stay valid through lowercasing and accent stripping.
/// Special tokens added later by a caller get `0..<0`, as in Hugging Face.
public struct Encoding: Sendable, Equatable {
    /// Vocabulary ids, one per token.
    public var ids: [Int32]
    /// The tokens as the vocabulary spells them: WordPiece continuation pieces prefixed with `##`,
    /// byte-level BPE tokens in GPT-2's byte alphabet (`Ġthe` for " the").
    public var tokens: [String]
    /// Unicode-scalar ranges of the original text, one per token.
    public var offsets: [Range<Int>]

    public init(ids: [Int32] = [], tokens: [String] = [], offsets: [Range<Int>] = []) {
        precondition(ids.count == tokens.count && ids.count == offsets.count, "Encoding arrays differ in length")
        self.ids = ids
        self.tokens = tokens
        self.offsets = offsets
    }

    /// Number of tokens.
    public var count: Int { ids.count }
}
