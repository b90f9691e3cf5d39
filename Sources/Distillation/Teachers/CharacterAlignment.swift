import MRC
import Model

/// The one rule by which a teacher's per-token logits reach a student window's tokens through characters (model
/// teachers of another tokenizer, `CrossTokenizerMapping`; logit files, `LogitsFileTeacher`): a student context
/// token takes the start logit of the teacher token that starts at the same character (the first such) and the
/// end logit of the teacher token that ends at the same character (the last such); with none, the teacher cannot
/// start (end) an answer there and the token gets `SpanLoss.paddingLogit`, as do the question tokens and
/// separators; `[CLS]` takes the teacher's null logits. A teacher token that covers no character (a byte-level
/// BPE's lone "Ġ" after offset trimming, a "▁" alone) starts and ends nothing.
struct CharacterAlignment {
    /// Teacher logit index of the token starting / ending at each character (the end key is the exclusive end).
    private(set) var startAt: [Int: Int] = [:]
    private(set) var endAt: [Int: Int] = [:]

    /// Teacher token at logit index `index` covers `characters`.
    mutating func add(_ index: Int, characters: Range<Int>) {
        guard !characters.isEmpty else { return }
        if startAt[characters.lowerBound] == nil { startAt[characters.lowerBound] = index }
        endAt[characters.upperBound] = index
    }

    /// The teacher's logits on `student`'s tokens, and how many of its context tokens no teacher token starts
    /// (ends) at. `start(i)`, `end(i)` are the teacher's logits at index `i`.
    func studentScores(_ student: Window, nullStart: Float, nullEnd: Float, start: (Int) -> Float, end: (Int) -> Float)
        -> (scores: TeacherScores, startsUnmatched: Int, endsUnmatched: Int) {
        var starts = [Float](repeating: SpanLoss.paddingLogit, count: student.length)
        var ends = starts
        starts[0] = nullStart
        ends[0] = nullEnd
        var startsUnmatched = 0, endsUnmatched = 0
        for (i, range) in student.contextOffsets.enumerated() {
            let position = student.contextStart + i
            if let t = startAt[range.lowerBound] { starts[position] = start(t) } else { startsUnmatched += 1 }
            if let t = endAt[range.upperBound] { ends[position] = end(t) } else { endsUnmatched += 1 }
        }
        return (TeacherScores(kind: .logits, start: starts, end: ends), startsUnmatched, endsUnmatched)
    }
}
