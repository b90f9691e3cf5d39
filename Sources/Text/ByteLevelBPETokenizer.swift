import Checkpoint
import Foundation

/// RoBERTa's (and GPT-2's) tokenizer: byte-level BPE over the pieces of GPT-2's pre-tokenizer regex.
///
/// Matches Hugging Face `RobertaTokenizerFast(vocab_file, merges_file, add_prefix_space=…,
/// trim_offsets=…)` called with `add_special_tokens=False` in ids, tokens and offsets:
///
/// 1. ByteLevel pre-tokenizer: with `addPrefixSpace` a space goes before a text that does not start with
///    one (it takes the first scalar's offsets); the text is split by `ByteLevelPreTokenizer`.
/// 2. Each piece's UTF-8 bytes are merged by `BytePairMerger`; a token's offsets span the scalars its bytes
///    came from, so two tokens made of bytes of one scalar (an emoji split in two) both cover that scalar.
/// 3. `trim_offsets` (RobertaProcessing / ByteLevel's `process_offsets`): the offsets of a token that
///    starts with `n` spaces (`Ġ`) start `n` later and those of one that ends with `m` spaces end `m`
///    earlier (never crossing the start), except that the first token (index 0 or starting at offset 0)
///    keeps a single leading space when `addPrefixSpace` is set, be it the added space or the text's own.
///
/// Text is text: a `<s>` or `<mask>` in it is tokenised as characters, where `RobertaTokenizerFast` would
/// make it one special token unless called with `split_special_tokens=True` (the fixtures' texts that
/// spell special tokens are encoded so). Works on Unicode scalars, the unit of Python strings.
public final class ByteLevelBPETokenizer: Tokenizer {
    public let vocabulary: Vocabulary
    /// The merge rules in rank order.
    public let merges: BPEMerges
    /// Put a space before a text that does not start with one, so that its first word is spelt as after a space.
    public let addPrefixSpace: Bool
    /// Leave the spaces that begin or end a token out of its offsets.
    public let trimOffsets: Bool
    /// Byte-level BPE never lowercases.
    public var lowercase: Bool { false }
    /// `<s> q </s></s> c </s>`, every token type 0.
    public var pairTemplate: PairTemplate { .roberta }
    public let signature: String
    let merger: BytePairMerger
    private let cache = BytePairCache()

    /// Errors name the merges file and line of a rule whose tokens are not in `vocabulary`, or the
    /// byte-level characters `vocabulary` lacks.
    public init(vocabulary: Vocabulary, merges: BPEMerges, addPrefixSpace: Bool = false, trimOffsets: Bool = true) throws {
        self.vocabulary = vocabulary
        self.merges = merges
        self.addPrefixSpace = addPrefixSpace
        self.trimOffsets = trimOffsets
        self.merger = try BytePairMerger(vocabulary: vocabulary, merges: merges)
        signature = "byte-level-bpe add_prefix_space=\(addPrefixSpace) trim_offsets=\(trimOffsets) "
            + "vocab=\(vocabulary.contentHash) merges=\(merges.contentHash)"
    }

    /// Loads `vocab.json` and `merges.txt`.
    public convenience init(vocabFile: URL, mergesFile: URL, specials: SpecialTokens = .roberta,
                            addPrefixSpace: Bool = false, trimOffsets: Bool = true) throws {
        try self.init(vocabulary: Vocabulary(jsonContentsOf: vocabFile, specials: specials),
                      merges: BPEMerges(contentsOf: mergesFile), addPrefixSpace: addPrefixSpace, trimOffsets: trimOffsets)
    }

    /// Tokenises `text` without adding special tokens.
    public func encode(_ text: String) -> Encoding {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.utf8.count + 1)
        let prefixed = addPrefixSpace && text.unicodeScalars.first.map { $0 != " " } == true
        if prefixed { scalars.append(" ") }
        scalars.append(contentsOf: text.unicodeScalars)
        let classes = scalars.map(ByteLevelCharacterClasses.classify)
        var ends: [Int] = []
        scalars.withUnsafeBufferPointer { scalars in
            classes.withUnsafeBufferPointer { classes in ByteLevelPreTokenizer.split(scalars, classes: classes, ends: &ends) }
        }
        var encoding = Encoding()
        encoding.ids.reserveCapacity(scalars.count / 3)
        var bytes: [UInt8] = []
        var byteScalars: [Int] = []  // the scalar (of `scalars`) each byte of the piece came from
        var pieces: [Int32] = []
        let shift = prefixed ? 1 : 0
        var start = 0
        for end in ends {
            bytes.removeAll(keepingCapacity: true)
            byteScalars.removeAll(keepingCapacity: true)
            for index in start ..< end {
                for byte in UTF8.encode(scalars[index])! {
                    bytes.append(byte)
                    byteScalars.append(index)
                }
            }
            start = end
            pieces.removeAll(keepingCapacity: true)
            if let cached = cache.tokens(of: bytes) {
                pieces.append(contentsOf: cached)
            } else {
                bytes.withUnsafeBufferPointer { merger.merge($0, into: &pieces) }
                cache.store(pieces, for: bytes)
            }
            var byte = 0
            for pair in stride(from: 0, to: pieces.count, by: 2) {
                let id = pieces[pair], length = Int(pieces[pair + 1])
                // The added space takes the first scalar's offsets: working index i is text index i - 1.
                var range = max(byteScalars[byte] - shift, 0) ..< max(byteScalars[byte + length - 1] - shift, 0) + 1
                if trimOffsets { range = trimmed(range, bytes[byte ..< byte + length], tokenIndex: encoding.ids.count) }
                encoding.ids.append(id)
                encoding.tokens.append(vocabulary.tokens[Int(id)])
                encoding.offsets.append(range)
                byte += length
            }
        }
        return encoding
    }

    /// `process_offsets` of `tokenizers`' ByteLevel: spaces (`Ġ`) at either end of a token leave its offsets.
    @inline(__always)
    private func trimmed(_ range: Range<Int>, _ token: ArraySlice<UInt8>, tokenIndex: Int) -> Range<Int> {
        var leading = 0
        while leading < token.count && token[token.startIndex + leading] == 0x20 { leading += 1 }
        if leading == 0 && token.last != 0x20 { return range }
        var trailing = 0
        while trailing < token.count && token[token.endIndex - 1 - trailing] == 0x20 { trailing += 1 }
        var start = range.lowerBound, end = range.upperBound
        if leading > 0 {
            let isFirst = tokenIndex == 0 || start == 0
            if !(isFirst && addPrefixSpace && leading == 1) { start = min(start + leading, end) }
        }
        if trailing > 0 && end >= trailing { end = max(end - trailing, start) }
        return start ..< end
    }
}
