/// Buffers of one `encode` call: the pending NFD run, the word being built, and the output.
/// Reused across words so that tokenising allocates little beyond the output.
struct EncodingState {
    var encoding = Encoding()
    /// UTF-8 bytes of the normalised scalars of the current word.
    var wordBytes: [UInt8] = []
    /// Byte offset in `wordBytes` where each scalar of the word starts.
    var byteStarts: [Int] = []
    /// For each scalar of the word, the index of the input scalar it came from.
    var origins: [Int] = []
    /// Decomposed scalars since the last NFD starter, not yet in canonical order.
    var run: [DecomposedScalar] = []
    /// Input index of each input scalar that fed `run`, in input order.
    var runOrigins: [Int] = []
    /// Input index last consumed by a run: a decomposition can continue past a starter
    /// (Hangul syllables), starting a run that consumes nothing.
    var lastRunOrigin = 0
    /// Scratch for one scalar's lowercase mapping.
    var lowered: [Unicode.Scalar] = []
    /// Pieces of the word being split: (id, start, end) in scalar positions of the word.
    var pieces: [(id: Int32, start: Int, end: Int)] = []

    /// Adds one normalised scalar to the current word.
    @inline(__always)
    mutating func appendToWord(_ scalar: Unicode.Scalar, origin: Int) {
        byteStarts.append(wordBytes.count)
        origins.append(origin)
        if scalar.isASCII {
            wordBytes.append(UInt8(truncatingIfNeeded: scalar.value))
        } else {
            UTF8.encode(scalar) { wordBytes.append($0) }
        }
    }
}

/// One scalar of a canonical decomposition, as `tokenizers`' NFD iterator carries it.
struct DecomposedScalar {
    var scalar: Unicode.Scalar
    var combiningClass: UInt8
    /// Not the first scalar of its input scalar's decomposition: Hugging Face aligns it with
    /// the input scalar consumed last (a "change 1" insertion) rather than consuming a new one.
    var continuesDecomposition: Bool
}

/// The BasicTokenizer half: BertNormalizer (clean text, CJK spacing, NFD and mark removal,
/// lowercase) and BertPreTokenizer (split on whitespace, isolate punctuation), streamed one input
/// scalar at a time with each normalised scalar remembering its input index.
extension WordPieceTokenizer {
    /// An ASCII scalar that survived cleaning (ASCII whitespace included).
    @inline(__always)
    func appendASCII(_ scalar: Unicode.Scalar, origin: Int, to state: inout EncodingState) {
        let value = scalar.value
        if value == 0x20 || (value >= 0x09 && value <= 0x0D) {
            finishWord(&state)
        } else if BertCharacterClasses.isPunctuation(scalar) {
            appendPunctuation(scalar, origin: origin, to: &state)
        } else {
            let lowered = lowercase && value >= 0x41 && value <= 0x5A ? Unicode.Scalar(value + 0x20)! : scalar
            state.appendToWord(lowered, origin: origin)
        }
    }

    /// A non-ASCII scalar that survived cleaning and is not whitespace.
    func appendNonASCII(_ scalar: Unicode.Scalar, origin: Int, to state: inout EncodingState) {
        guard stripAccents else {
            appendLowercased(scalar, origin: origin, to: &state)
            return
        }
        var first = true
        for decomposed in UnicodeNormalization.canonicalDecomposition(of: scalar) {
            let combiningClass = UnicodeNormalization.combiningClass(of: decomposed)
            if combiningClass == 0 { finishRun(&state) }
            state.run.append(DecomposedScalar(scalar: decomposed, combiningClass: combiningClass,
                                              continuesDecomposition: !first))
            if first { state.runOrigins.append(origin) }
            first = false
        }
    }

    /// Puts the pending run in canonical order (a stable sort of its marks by combining class),
    /// aligns each scalar with an input scalar as Hugging Face does, drops nonspacing marks and
    /// passes the rest on.
    ///
    /// Hugging Face's alignment consumes input scalars in order, one per first-of-decomposition
    /// scalar in *output* order, and gives the others the last consumed one; so a reordered mark
    /// can end up aligned with a neighbouring input scalar.
    func finishRun(_ state: inout EncodingState) {
        let count = state.run.count
        guard count > 0 else { return }
        for index in 1 ..< count {
            let item = state.run[index]
            var position = index
            while position > 0, state.run[position - 1].combiningClass > item.combiningClass, item.combiningClass != 0 {
                state.run[position] = state.run[position - 1]
                position -= 1
            }
            state.run[position] = item
        }
        var consumed = 0
        var origin = state.lastRunOrigin
        for index in 0 ..< count {
            let item = state.run[index]
            if !item.continuesDecomposition {
                origin = state.runOrigins[consumed]
                consumed += 1
            }
            if !BertCharacterClasses.isStrippedMark(item.scalar) {
                appendLowercased(item.scalar, origin: origin, to: &state)
            }
        }
        state.lastRunOrigin = origin
        state.run.removeAll(keepingCapacity: true)
        state.runOrigins.removeAll(keepingCapacity: true)
    }

    /// Lowercases (when asked) and pre-tokenizes one normalised scalar.
    private func appendLowercased(_ scalar: Unicode.Scalar, origin: Int, to state: inout EncodingState) {
        if lowercase && scalar.properties.changesWhenLowercased {
            state.lowered.removeAll(keepingCapacity: true)
            UnicodeNormalization.appendLowercase(of: scalar, to: &state.lowered)
            for index in state.lowered.indices {
                preTokenize(state.lowered[index], origin: origin, to: &state)
            }
        } else {
            preTokenize(scalar, origin: origin, to: &state)
        }
    }

    @inline(__always)
    private func preTokenize(_ scalar: Unicode.Scalar, origin: Int, to state: inout EncodingState) {
        if BertCharacterClasses.isWhitespace(scalar) {
            finishWord(&state)
        } else if BertCharacterClasses.isPunctuation(scalar) {
            appendPunctuation(scalar, origin: origin, to: &state)
        } else {
            state.appendToWord(scalar, origin: origin)
        }
    }

    /// Punctuation is a word of its own.
    private func appendPunctuation(_ scalar: Unicode.Scalar, origin: Int, to state: inout EncodingState) {
        finishWord(&state)
        state.appendToWord(scalar, origin: origin)
        finishWord(&state)
    }
}
