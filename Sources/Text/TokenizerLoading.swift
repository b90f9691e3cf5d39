import Checkpoint

extension TokenizerFiles {
    /// The tokenizer these files describe: `WordPieceTokenizer` or `ByteLevelBPETokenizer`.
    public func makeTokenizer() throws -> any Tokenizer {
        switch kind {
        case let .wordPiece(lowercase):
            return WordPieceTokenizer(vocabulary: vocabulary, lowercase: lowercase)
        case let .byteLevelBPE(merges, addPrefixSpace, trimOffsets):
            return try ByteLevelBPETokenizer(vocabulary: vocabulary, merges: merges, addPrefixSpace: addPrefixSpace,
                                             trimOffsets: trimOffsets)
        }
    }
}
