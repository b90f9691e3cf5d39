import Checkpoint
import Foundation

/// BERT's tokenizer: BasicTokenizer (clean text, split CJK ideographs, strip accents, lowercase,
/// split on whitespace and punctuation) followed by greedy longest-match-first WordPiece.
///
/// Matches Hugging Face `BertTokenizerFast` (BertNormalizer + BertPreTokenizer + WordPiece) in
/// ids, tokens and offsets. Works on Unicode scalars, the unit of Python strings and of the
/// offsets it returns.
public final class WordPieceTokenizer: Tokenizer {
    /// The vocabulary ids and tokens come from.
    public let vocabulary: Vocabulary
    /// Lowercase with the full Unicode lowercase mapping (no locale).
    public let lowercase: Bool
    /// Decompose (NFD) and drop nonspacing marks.
    public let stripAccents: Bool
    /// Make every CJK ideograph a word of its own.
    public let tokenizeChineseChars: Bool
    /// Longer words (in normalised scalars) become one `[UNK]`.
    public let maxInputCharsPerWord: Int = 100
    /// Prefix of pieces that continue a word.
    public let continuingSubwordPrefix: String = "##"
    /// The vocabulary's tokens by their UTF-8 bytes, for lookups without building Strings.
    private let table: TokenTable
    /// Length in Unicode scalars of the longest token, `##` included; bounds the WordPiece search.
    let longestTokenScalars: Int
    /// `[CLS] q [SEP] c [SEP]`, token types 0 then 1.
    public var pairTemplate: PairTemplate { .bert }
    public let signature: String

    /// - Parameters:
    ///   - stripAccents: nil follows `lowercase`, as in Hugging Face.
    public init(vocabulary: Vocabulary, lowercase: Bool = true, stripAccents: Bool? = nil,
                tokenizeChineseChars: Bool = true) {
        self.vocabulary = vocabulary
        self.table = TokenTable(tokens: vocabulary.tokens)
        self.longestTokenScalars = vocabulary.tokens.lazy.map(\.unicodeScalars.count).max() ?? 0
        self.lowercase = lowercase
        self.stripAccents = stripAccents ?? lowercase
        self.tokenizeChineseChars = tokenizeChineseChars
        signature = "wordpiece lowercase=\(lowercase) strip_accents=\(self.stripAccents) chinese=\(tokenizeChineseChars) "
            + "vocab=\(vocabulary.contentHash)"
    }

    /// Loads `vocab.txt` and builds an uncased (`lowercase: true`) or cased tokenizer.
    public convenience init(vocabFile: URL, lowercase: Bool = true) throws {
        self.init(vocabulary: try Vocabulary(contentsOf: vocabFile), lowercase: lowercase)
    }

    /// Tokenises `text` without adding special tokens.
    public func encode(_ text: String) -> Encoding {
        var state = EncodingState()
        var origin = 0
        for scalar in text.unicodeScalars {
            defer { origin += 1 }
            if BertCharacterClasses.isRemoved(scalar) { continue }
            if scalar.isASCII {
                // ASCII scalars are NFD starters without decomposition: they end a pending run.
                if !state.run.isEmpty { finishRun(&state) }
                appendASCII(scalar, origin: origin, to: &state)
            } else if BertCharacterClasses.isWhitespace(scalar) {
                finishRun(&state)
                finishWord(&state)
            } else if tokenizeChineseChars && BertCharacterClasses.isChineseCharacter(scalar) {
                // BertNormalizer puts spaces around the ideograph: it is a word of its own.
                finishRun(&state)
                finishWord(&state)
                appendNonASCII(scalar, origin: origin, to: &state)
                finishRun(&state)
                finishWord(&state)
            } else {
                appendNonASCII(scalar, origin: origin, to: &state)
            }
        }
        finishRun(&state)
        finishWord(&state)
        return state.encoding
    }

    /// Splits the current word into WordPiece tokens, appends them, and empties the word.
    func finishWord(_ state: inout EncodingState) {
        let count = state.origins.count
        guard count > 0 else { return }
        defer {
            state.wordBytes.removeAll(keepingCapacity: true)
            state.byteStarts.removeAll(keepingCapacity: true)
            state.origins.removeAll(keepingCapacity: true)
        }
        let wordRange = state.origins[0] ..< state.origins[count - 1] + 1
        if count > maxInputCharsPerWord {
            appendUnknown(covering: wordRange, to: &state.encoding)
            return
        }
        state.byteStarts.append(state.wordBytes.count)
        state.pieces.removeAll(keepingCapacity: true)
        let complete = state.wordBytes.withUnsafeBufferPointer { bytes in
            // Greedy longest match first; pieces longer than the longest token cannot match.
            var start = 0
            while start < count {
                let continuation = start > 0
                var end = min(count, start + longestTokenScalars - (continuation ? 2 : 0))
                var found: Int32?
                while end > start {
                    let piece = UnsafeBufferPointer(rebasing: bytes[state.byteStarts[start] ..< state.byteStarts[end]])
                    if let id = table.id(of: piece, continuation: continuation) {
                        found = id
                        break
                    }
                    end -= 1
                }
                guard let id = found else { return false }
                state.pieces.append((id, start, end))
                start = end
            }
            return true
        }
        guard complete else {
            appendUnknown(covering: wordRange, to: &state.encoding)
            return
        }
        for piece in state.pieces {
            state.encoding.ids.append(piece.id)
            state.encoding.tokens.append(vocabulary.tokens[Int(piece.id)])
            state.encoding.offsets.append(state.origins[piece.start] ..< state.origins[piece.end - 1] + 1)
        }
    }

    private func appendUnknown(covering range: Range<Int>, to encoding: inout Encoding) {
        encoding.ids.append(vocabulary.unkId)
        encoding.tokens.append(vocabulary.specials.unk)
        encoding.offsets.append(range)
    }
}
