import MRC

/// How an answer text was found in its context.
public enum AnswerMatchKind: String, Sendable, Codable {
    /// The answer's scalars occur as they are.
    case exact
    /// Found once runs of whitespace are allowed to differ (see `AnswerLocator`).
    case whitespace
    /// Found once, besides whitespace, letter case is ignored.
    case caseInsensitive
}

/// Where an answer text occurs in a context: every occurrence, as half-open Unicode-scalar ranges into
/// the original context (Python `str` indices), in increasing order, and how they were matched.
public struct AnswerLocation: Sendable, Equatable {
    public var kind: AnswerMatchKind
    public var spans: [Range<Int>]

    public init(kind: AnswerMatchKind, spans: [Range<Int>]) {
        self.kind = kind
        self.spans = spans
    }
}

/// Finds an answer text (a black-box teacher's prediction) in a context.
///
/// Three tries, the first that finds anything wins:
/// 1. `exact`: the answer's scalars as they are;
/// 2. `whitespace`: the answer without its leading and trailing whitespace, each of its inner runs of
///    whitespace matching any run of one or more whitespace scalars of the context (spaces, tabs,
///    newlines, NBSP and the other Unicode `White_Space` scalars), so "New York" finds "New\u{A0}York"
///    and "New\n  York";
/// 3. `caseInsensitive`: as 2, comparing scalars by their simple lowercase mapping (one scalar to one
///    scalar, so spans keep the context's indices; a scalar whose lowercase is several scalars is
///    compared as itself).
///
/// Occurrences do not overlap: after a match the search resumes at its end (as Python's `str.count`).
/// An answer that is empty or only whitespace is found nowhere.
public enum AnswerLocator {
    /// Every occurrence of `answer` in `context`, or nil when none of the three tries finds it.
    public static func locate(_ answer: String, in context: ScalarText) -> AnswerLocation? {
        let scalars = answer.unicodeScalars.map(\.value)
        let pieces = words(of: scalars)
        guard !pieces.isEmpty else { return nil }
        let text = context.scalars.map(\.value)
        let exact = occurrences(of: [scalars], in: text)
        if !exact.isEmpty { return AnswerLocation(kind: .exact, spans: exact) }
        let spaced = occurrences(of: pieces, in: text)
        if !spaced.isEmpty { return AnswerLocation(kind: .whitespace, spans: spaced) }
        let folded = occurrences(of: pieces.map { $0.map(lowercase) }, in: text.map(lowercase))
        if !folded.isEmpty { return AnswerLocation(kind: .caseInsensitive, spans: folded) }
        return nil
    }

    /// Whether `scalar` is Unicode white space (includes NBSP U+00A0 and the line separators).
    static func isWhitespace(_ scalar: UInt32) -> Bool {
        guard let value = Unicode.Scalar(scalar) else { return false }
        return value.properties.isWhitespace
    }

    /// The simple (one-to-one) lowercase mapping of a scalar.
    static func lowercase(_ scalar: UInt32) -> UInt32 {
        if scalar < 0x80 {
            return (scalar >= 0x41 && scalar <= 0x5A) ? scalar + 0x20 : scalar
        }
        guard let value = Unicode.Scalar(scalar) else { return scalar }
        let mapped = value.properties.lowercaseMapping.unicodeScalars
        return mapped.count == 1 ? mapped.first!.value : scalar
    }

    /// The runs of non-whitespace scalars of `scalars`.
    static func words(of scalars: [UInt32]) -> [[UInt32]] {
        var words: [[UInt32]] = []
        var current: [UInt32] = []
        for scalar in scalars {
            if isWhitespace(scalar) {
                if !current.isEmpty { words.append(current); current = [] }
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Non-overlapping occurrences of `pieces` in `text`: the pieces in order, consecutive pieces
    /// separated by one or more whitespace scalars. One piece is a plain substring search.
    static func occurrences(of pieces: [[UInt32]], in text: [UInt32]) -> [Range<Int>] {
        guard let first = pieces.first, !first.isEmpty else { return [] }
        var spans: [Range<Int>] = []
        var start = 0
        while start + first.count <= text.count {
            if let end = match(pieces, in: text, at: start) {
                spans.append(start..<end)
                start = end
            } else {
                start += 1
            }
        }
        return spans
    }

    /// The end of a match of `pieces` starting exactly at `start`, or nil.
    static func match(_ pieces: [[UInt32]], in text: [UInt32], at start: Int) -> Int? {
        var position = start
        for (index, piece) in pieces.enumerated() {
            if index > 0 {
                // At least one whitespace scalar between pieces, then as many as there are.
                guard position < text.count, isWhitespace(text[position]) else { return nil }
                while position < text.count && isWhitespace(text[position]) { position += 1 }
            }
            guard position + piece.count <= text.count else { return nil }
            for offset in 0..<piece.count where text[position + offset] != piece[offset] { return nil }
            position += piece.count
        }
        return position
    }
}
