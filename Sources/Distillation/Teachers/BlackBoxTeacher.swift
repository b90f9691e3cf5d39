import Foundation
import MRC
import Training

/// A teacher that is only a prediction file (`predictions.json` or `nbest_predictions.json`, see
/// `BlackBoxPredictions`): its answers are located in the context and turned into start/end
/// probabilities over each window's tokens.
///
/// For each question (looked up by `example.predictionKey`, then by `example.id`):
/// - each candidate is located with `AnswerLocator`; a candidate with a character offset puts its mass on
///   the occurrence nearest to that offset (the earlier on a tie), one without splits its mass equally
///   over all occurrences; a candidate not found is counted and its mass dropped;
/// - on SQuAD 2.0 data (`MRCExample.allowsNoAnswer`) an empty candidate is the teacher's "no answer": its
///   mass goes to `[CLS]` in every window of the question, as BERT labels an unanswerable question (on
///   SQuAD 1.1 and MRQA data empty candidates are ignored);
/// - the masses of the candidates found (and of the no answer) are renormalised to sum to 1 (split equally
///   when they all have probability 0);
/// - in each window, a span whose whole character range lies inside the window's context tokens
///   (first token's start ≤ span start, span end ≤ last token's end) and maps to tokens
///   (`AnswerAlignment.tokenSpan`) puts its mass on start position `contextStart + startToken` and end
///   position `contextStart + endToken`; the mass of every other span, and of the no answer, goes to
///   position 0 (`[CLS]`), as BERT labels an answer outside the window. Start and end each sum to 1.
///
/// The teacher abstains (nil) for every window of a question absent from the file, or none of whose
/// candidates is found. Nothing is dropped silently: see `counts`.
public final class BlackBoxTeacher: Teacher {
    public let name: String
    public let kind = "black-box"
    /// `"NAME:HASH"`, HASH being `fingerprint()` (FNV-1a 64, hex) of the file's text.
    public let fingerprint: String
    public let predictions: BlackBoxPredictions

    /// Counts, accumulated over all `score` calls. A question is counted once, by the call that scores
    /// its first window (`windowIndex == 0`), so the counts of contiguous shards of the windows add up
    /// to those of the whole. Names:
    /// - `questions_scored`: questions the teacher gave scores for;
    /// - `questions_missing`: questions absent from the file (abstained);
    /// - `questions_not_found`: questions in the file none of whose candidates was found, or that had
    ///   only empty candidates on SQuAD 1.1 / MRQA data (abstained);
    /// - `answers_found_exact`, `answers_found_whitespace`, `answers_found_case`: candidates located by
    ///   each `AnswerMatchKind`;
    /// - `answers_not_found`: candidates found nowhere in the context (mass dropped);
    /// - `answers_offset_used`: candidates placed by their character offset;
    /// - `empty_candidates`: candidates with an empty (or whitespace-only) text;
    /// - `no_answer_candidates`: of those, the ones taken as "no answer" (SQuAD 2.0 data), mass on `[CLS]`.
    public private(set) var counts: [String: Int]

    public static let countNames = [
        "questions_scored", "questions_missing", "questions_not_found", "answers_found_exact",
        "answers_found_whitespace", "answers_found_case", "answers_not_found", "answers_offset_used",
        "empty_candidates", "no_answer_candidates",
    ]

    public init(name: String, predictions: BlackBoxPredictions) {
        self.name = name
        self.predictions = predictions
        self.fingerprint = "\(name):\(predictions.contentFingerprint)"
        self.counts = Dictionary(uniqueKeysWithValues: BlackBoxTeacher.countNames.map { ($0, 0) })
    }

    /// Reads the prediction file at `url` (errors name the file and key).
    public convenience init(name: String, url: URL) throws {
        self.init(name: name, predictions: try BlackBoxPredictions.read(url))
    }

    /// A located answer span of a question and the probability mass it carries; `characters` nil is the
    /// no answer (SQuAD 2.0), whose mass goes to `[CLS]`.
    public struct WeightedSpan: Sendable, Equatable {
        public var characters: Range<Int>?
        public var mass: Double
    }

    public func score(examples: [MRCExample], windows: [Window], progress: (Int) -> Void) throws -> [TeacherScores?] {
        var result: [TeacherScores?] = []
        result.reserveCapacity(windows.count)
        var cachedExample = -1
        var cachedSpans: [WeightedSpan]?
        for (done, window) in windows.enumerated() {
            guard examples.indices.contains(window.exampleIndex) else {
                throw DistillationError("black-box teacher \(name): window \(done) refers to example "
                                        + "\(window.exampleIndex), but there are \(examples.count) examples")
            }
            if window.exampleIndex != cachedExample {
                cachedExample = window.exampleIndex
                var tally = [String: Int]()
                cachedSpans = spans(for: examples[window.exampleIndex], counts: &tally)
                if window.windowIndex == 0 { counts.merge(tally, uniquingKeysWith: +) }
            }
            result.append(cachedSpans.map { BlackBoxTeacher.scores(of: $0, in: window) })
            if (done + 1) % 1024 == 0 { progress(done + 1) }
        }
        progress(windows.count)
        return result
    }

    /// The located, renormalised answer spans of one question; nil when the teacher abstains.
    /// `counts` receives the question's counts.
    public func spans(for example: MRCExample, counts: inout [String: Int]) -> [WeightedSpan]? {
        let key = example.predictionKey
        guard let candidates = predictions.candidates[key] ?? predictions.candidates[example.id] else {
            counts["questions_missing", default: 0] += 1
            return nil
        }
        let usedKey = predictions.candidates[key] != nil ? key : example.id
        counts["empty_candidates", default: 0] += predictions.emptyCandidates[usedKey] ?? 0
        // SQuAD 2.0 data: the empty candidates are the teacher's "no answer".
        let noAnswerMass = example.allowsNoAnswer ? predictions.emptyMass[usedKey] : nil
        if noAnswerMass != nil { counts["no_answer_candidates", default: 0] += predictions.emptyCandidates[usedKey] ?? 0 }
        var located: [(candidate: BlackBoxCandidate, spans: [Range<Int>])] = []
        for candidate in candidates {
            guard let location = AnswerLocator.locate(candidate.text, in: example.context) else {
                counts["answers_not_found", default: 0] += 1
                continue
            }
            switch location.kind {
            case .exact: counts["answers_found_exact", default: 0] += 1
            case .whitespace: counts["answers_found_whitespace", default: 0] += 1
            case .caseInsensitive: counts["answers_found_case", default: 0] += 1
            }
            var spans = location.spans
            if let offset = candidate.offset {
                counts["answers_offset_used", default: 0] += 1
                let nearest = spans.min { abs($0.lowerBound - offset) < abs($1.lowerBound - offset) }!
                spans = [nearest]
            }
            located.append((candidate, spans))
        }
        guard !located.isEmpty || noAnswerMass != nil else {
            counts["questions_not_found", default: 0] += 1
            return nil
        }
        counts["questions_scored", default: 0] += 1
        let total = located.reduce(0.0) { $0 + $1.candidate.probability } + (noAnswerMass ?? 0)
        let parts = Double(located.count + (noAnswerMass == nil ? 0 : 1))
        var spans: [WeightedSpan] = []
        for (candidate, occurrences) in located {
            let mass = total > 0 ? candidate.probability / total : 1.0 / parts
            let share = mass / Double(occurrences.count)
            for occurrence in occurrences { spans.append(WeightedSpan(characters: occurrence, mass: share)) }
        }
        if let noAnswerMass { spans.append(WeightedSpan(characters: nil, mass: total > 0 ? noAnswerMass / total : 1.0 / parts)) }
        return spans
    }

    /// Start and end probabilities over the window's `length` real tokens for the weighted spans.
    public static func scores(of spans: [WeightedSpan], in window: Window) -> TeacherScores {
        var start = [Double](repeating: 0, count: window.length)
        var end = [Double](repeating: 0, count: window.length)
        let offsets = window.contextOffsets
        for span in spans {
            if let characters = span.characters, let first = offsets.first, let last = offsets.last,
               first.lowerBound <= characters.lowerBound, characters.upperBound <= last.upperBound,
               let tokens = AnswerAlignment.tokenSpan(of: characters, in: offsets) {
                start[window.contextStart + tokens.start] += span.mass
                end[window.contextStart + tokens.end] += span.mass
            } else {
                start[0] += span.mass
                end[0] += span.mass
            }
        }
        return TeacherScores(kind: .probabilities, start: start.map { Float($0) }, end: end.map { Float($0) })
    }
}
