/// The split of `tokenizers`' ByteLevel pre-tokenizer (with `use_regex`): GPT-2's pattern
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// run left to right with Oniguruma's leftmost-first alternation, every match a piece of its own
/// (`SplitDelimiterBehavior::Isolated`). Since every scalar is a letter, a number, whitespace or none of
/// them, some alternative matches at every position and the pieces cover the text. Spelt out:
///
/// - at `'` followed by `s`, `t`, `m`, `d`, `re`, `ve` or `ll` (lowercase only): the contraction;
/// - else a run of letters, of numbers, or of "other" scalars (apostrophes included), with one ASCII
///   space before it when the text has one there;
/// - else whitespace: a run that reaches the end of the text is one piece; a longer run followed by a
///   non-space leaves its last scalar to the next piece (`\s+(?!\S)`), so that a final ASCII space can
///   start the next word; a single whitespace scalar before a non-space is a piece (`\s+`).
///
/// Works on the Unicode scalars of the text after `add_prefix_space` (a space put before a text that does
/// not start with one, which the ByteLevel pre-tokenizer does before splitting).
enum ByteLevelPreTokenizer {
    /// Appends the end of each piece of `scalars`; piece `k` runs from the end of piece `k - 1` (or 0).
    static func split(_ scalars: UnsafeBufferPointer<Unicode.Scalar>,
                      classes: UnsafeBufferPointer<ByteLevelCharacterClass>, ends: inout [Int]) {
        let count = scalars.count
        var index = 0
        while index < count {
            let end = pieceEnd(scalars, classes, from: index)
            ends.append(end)
            index = end
        }
    }

    /// The end of the match that starts at `start`.
    @inline(__always)
    private static func pieceEnd(_ scalars: UnsafeBufferPointer<Unicode.Scalar>,
                                 _ classes: UnsafeBufferPointer<ByteLevelCharacterClass>, from start: Int) -> Int {
        let count = scalars.count
        let first = scalars[start]
        if first == "'" && start + 1 < count {
            switch scalars[start + 1] {
            case "s", "t", "m", "d": return start + 2
            case "r", "v":
                if start + 2 < count && scalars[start + 2] == "e" { return start + 3 }
            case "l":
                if start + 2 < count && scalars[start + 2] == "l" { return start + 3 }
            default: break
            }
        }
        // ` ?X+` where X is the class after an optional ASCII space (whitespace cannot follow it here).
        var runStart = start
        if first == " " && start + 1 < count && classes[start + 1] != .whitespace { runStart = start + 1 }
        let runClass = classes[runStart]
        var end = runStart + 1
        while end < count && classes[end] == runClass { end += 1 }
        if runClass != .whitespace { return end }
        // Whitespace from `start` to `end`: all of it at the end of the text, else all but the last
        // scalar when that leaves one or more (`\s+(?!\S)`), else the single scalar (`\s+`).
        if end == count || end - start == 1 { return end }
        return end - 1
    }

    /// The pieces of `text` as scalar ranges (for tests and tools; the tokenizer uses `split`).
    static func pieces(of scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let classes = scalars.map(ByteLevelCharacterClasses.classify)
        var ends: [Int] = []
        scalars.withUnsafeBufferPointer { scalars in
            classes.withUnsafeBufferPointer { classes in split(scalars, classes: classes, ends: &ends) }
        }
        return ends.indices.map { ($0 == 0 ? 0 : ends[$0 - 1]) ..< ends[$0] }
    }
}
