import Foundation

/// BERT's tokenizer: BasicTokenizer (clean text, split CJK ideographs, strip accents, lowercase,
/// split on whitespace and punctuation) followed by greedy longest-match-first WordPiece.
///
/// Matches Hugging Face `BertTokenizerFast` (BertNormalizer + BertPreTokenizer + WordPiece) in
/// ids, tokens and offsets. Works on Unicode scalars, the unit of Python strings and of the
/// offsets it returns.
public final class WordPieceTokenizer: Sendable {
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

    /// - Parameters:
    ///   - stripAccents: nil follows `lowercase`, as in Hugging Face.
    public init(vocabulary: Vocabulary, lowercase: Bool = true, stripAccents: Bool? = nil,
                tokenizeChineseChars: Bool = true) {
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        self.stripAccents = stripAccents ?? lowercase
        self.tokenizeChineseChars = tokenizeChineseChars
    }

    /// Loads `vocab.txt` and builds an uncased (`lowercase: true`) or cased tokenizer.
    public convenience init(vocabFile: URL, lowercase: Bool = true) throws {
        self.init(vocabulary: try Vocabulary(contentsOf: vocabFile), lowercase: lowercase)
    }

    /// Tokenises `text` without adding special tokens.
    public func encode(_ text: String) -> Encoding {
        var state = EncodingState()
        var originIndex = 0
        for scalar in text.unicodeScalars {
            defer { originIndex += 1 }
            if BertCharacterClasses.isRemoved(scalar) { continue }
            if BertCharacterClasses.isWhitespace(scalar) {
                finishWord(&state)
                continue
            }
            if tokenizeChineseChars && BertCharacterClasses.isChineseCharacter(scalar) {
                finishWord(&state)
                appendNormalized(scalar, origin: originIndex, to: &state)
                finishWord(&state)
                continue
            }
            appendNormalized(scalar, origin: originIndex, to: &state)
        }
        finishWord(&state)
        return state.encoding
    }

    /// Words being built and the encoding so far; reused buffers avoid per-word allocation.
    private struct EncodingState {
        var encoding = Encoding()
        /// Normalised scalars of the current word.
        var word: [Unicode.Scalar] = []
        /// For each scalar of `word`, the index of the input scalar it came from.
        var origins: [Int] = []
        /// Scratch for one input scalar's normalised form.
        var normalized: [Unicode.Scalar] = []
        /// Pieces of the word being split: (id, start, end) in `word` positions.
        var pieces: [(id: Int32, start: Int, end: Int)] = []
        var candidate = ""
    }

    /// Normalises one input scalar and feeds the result to the pre-tokenizer (whitespace and
    /// punctuation splits), all pieces pointing back at `origin`.
    @inline(__always)
    private func appendNormalized(_ scalar: Unicode.Scalar, origin: Int, to state: inout EncodingState) {
        if scalar.isASCII {
            if BertCharacterClasses.isPunctuation(scalar) {
                finishWord(&state)
                state.word.append(scalar)
                state.origins.append(origin)
                finishWord(&state)
            } else {
                let value = scalar.value
                let lowered = lowercase && value >= 0x41 && value <= 0x5A ? Unicode.Scalar(value + 0x20)! : scalar
                state.word.append(lowered)
                state.origins.append(origin)
            }
            return
        }
        state.normalized.removeAll(keepingCapacity: true)
        UnicodeNormalization.normalize(scalar, stripAccents: stripAccents, lowercase: lowercase,
                                       into: &state.normalized)
        for index in state.normalized.indices {
            let piece = state.normalized[index]
            if BertCharacterClasses.isWhitespace(piece) {
                finishWord(&state)
            } else if BertCharacterClasses.isPunctuation(piece) {
                finishWord(&state)
                state.word.append(piece)
                state.origins.append(origin)
                finishWord(&state)
            } else {
                state.word.append(piece)
                state.origins.append(origin)
            }
        }
    }

    /// Splits the current word into WordPiece tokens, appends them, and empties the word.
    private func finishWord(_ state: inout EncodingState) {
        let count = state.word.count
        guard count > 0 else { return }
        defer {
            state.word.removeAll(keepingCapacity: true)
            state.origins.removeAll(keepingCapacity: true)
        }
        let wordRange = state.origins[0] ..< state.origins[count - 1] + 1
        if count > maxInputCharsPerWord {
            appendUnknown(covering: wordRange, to: &state.encoding)
            return
        }
        state.pieces.removeAll(keepingCapacity: true)
        var start = 0
        while start < count {
            let prefixLength = start > 0 ? 2 : 0
            var end = min(count, start + vocabulary.longestTokenScalars - prefixLength)
            var found: Int32?
            while end > start {
                state.candidate.removeAll(keepingCapacity: true)
                if start > 0 { state.candidate.append(continuingSubwordPrefix) }
                state.candidate.unicodeScalars.append(contentsOf: state.word[start ..< end])
                if let id = vocabulary.id(for: state.candidate) {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else {
                appendUnknown(covering: wordRange, to: &state.encoding)
                return
            }
            state.pieces.append((id, start, end))
            start = end
        }
        for piece in state.pieces {
            state.encoding.ids.append(piece.id)
            state.encoding.tokens.append(vocabulary.tokens[Int(piece.id)])
            state.encoding.offsets.append(state.origins[piece.start] ..< state.origins[piece.end - 1] + 1)
        }
    }

    private func appendUnknown(covering range: Range<Int>, to encoding: inout Encoding) {
        encoding.ids.append(vocabulary.unkId)
        encoding.tokens.append(Vocabulary.unkToken)
        encoding.offsets.append(range)
    }
}
