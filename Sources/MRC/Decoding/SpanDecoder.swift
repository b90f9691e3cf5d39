import Foundation

/// Start/end logits of one window, as the model produced them: [positions] each, position `i` being
/// token `i` of the window's `inputIds` (padding positions may be included; they are never chosen).
public struct SpanScores: Sendable {
    public var startLogits: [Float]
    public var endLogits: [Float]

    public init(startLogits: [Float], endLogits: [Float]) {
        precondition(startLogits.count == endLogits.count, "start and end logits differ in length")
        self.startLogits = startLogits
        self.endLogits = endLogits
    }
}

/// Decoding settings (BERT/D-NET defaults).
public struct SpanDecoderSettings: Sendable, Equatable {
    /// Candidates kept per example, and top starts/ends tried per window.
    public var nBest: Int
    /// Longest answer, in tokens.
    public var maxAnswerLength: Int
    /// SQuAD 2.0: predict "" when null score − best span score exceeds this; nil for SQuAD 1.1 / MRQA
    /// (no null answer).
    public var nullScoreThreshold: Double?

    public init(nBest: Int = 20, maxAnswerLength: Int = 30, nullScoreThreshold: Double? = nil) {
        self.nBest = nBest
        self.maxAnswerLength = maxAnswerLength
        self.nullScoreThreshold = nullScoreThreshold
    }
}

/// One n-best candidate.
public struct SpanCandidate: Sendable, Equatable, Codable {
    /// The answer cut from the original context by character offsets ("" for the null answer).
    public var text: String
    /// Softmax of start + end logit over the example's n-best list.
    public var probability: Double
    public var startLogit: Double
    public var endLogit: Double
    /// Character range in the context; nil for the null answer.
    public var characters: Range<Int>?
    /// Window (index among the example's windows) and token positions the span came from.
    public var windowIndex: Int
    public var startIndex: Int
    public var endIndex: Int
}

/// The decoded answer of one example.
public struct ExamplePrediction: Sendable, Equatable, Codable {
    /// Key predictions files use (`MRCExample.predictionKey`).
    public var key: String
    /// The predicted answer text ("" when SQuAD 2.0 decides there is no answer).
    public var text: String
    /// The n-best list, best first.
    public var nBest: [SpanCandidate]
    /// SQuAD 2.0: null score minus the best non-null score (BERT's `null_odds`); nil otherwise.
    public var nullScoreDifference: Double?
}

/// The one span decoder: the original BERT `write_predictions` over a question's windows.
///
/// Per window the `nBest` highest start and end logits (ties: lower position first) are paired; a
/// pair is kept when both are context tokens, end ≥ start, the span has at most `maxAnswerLength`
/// tokens and the start token has its maximal context in this window. Pairs of all windows are
/// ranked by start + end logit (ties: window, then start, then end order), duplicates of an already
/// listed text dropped, `nBest` kept, and their probabilities taken by softmax. For SQuAD 2.0 the
/// null answer (score: the smallest start[CLS] + end[CLS] over windows) joins the ranking.
///
/// Two deliberate differences from BERT: the text is cut from the original context by character
/// offsets (not re-aligned from wordpieces), and when no span is valid the answer is "" (BERT's
/// placeholder is the text "empty"; its SQuAD 2.0 path fails when only the null answer is left).
public struct SpanDecoder: Sendable {
    public var settings: SpanDecoderSettings

    public init(settings: SpanDecoderSettings = SpanDecoderSettings()) {
        self.settings = settings
    }

    /// Decodes every example from its windows; `windows[i]` was scored as `scores[i]`.
    public func decode(examples: [MRCExample], windows: [Window], scores: [SpanScores]) -> [ExamplePrediction] {
        precondition(windows.count == scores.count, "one SpanScores per window")
        var windowsOfExample = [[Int]](repeating: [], count: examples.count)
        for (index, window) in windows.enumerated() { windowsOfExample[window.exampleIndex].append(index) }
        return examples.indices.map { exampleIndex in
            let indices = windowsOfExample[exampleIndex]
            return decode(example: examples[exampleIndex], windows: indices.map { windows[$0] }, scores: indices.map { scores[$0] })
        }
    }

    /// Decodes one example from its windows (in window order) and their scores.
    public func decode(example: MRCExample, windows: [Window], scores: [SpanScores]) -> ExamplePrediction {
        struct Preliminary {
            var window: Int
            var start: Int
            var end: Int
            var startLogit: Double
            var endLogit: Double
            var order: Int
        }
        var preliminary: [Preliminary] = []
        var nullScore = Double.infinity
        var nullLogits = (start: 0.0, end: 0.0, window: 0)
        for (windowIndex, (window, score)) in zip(windows, scores).enumerated() {
            let starts = Self.bestIndexes(score.startLogits, count: settings.nBest)
            let ends = Self.bestIndexes(score.endLogits, count: settings.nBest)
            if settings.nullScoreThreshold != nil {
                let windowNull = Double(score.startLogits[0]) + Double(score.endLogits[0])
                if windowNull < nullScore {
                    nullScore = windowNull
                    nullLogits = (Double(score.startLogits[0]), Double(score.endLogits[0]), windowIndex)
                }
            }
            for start in starts where window.isContext(start) && window.isMaxContext(start) {
                for end in ends where window.isContext(end) && end >= start && end - start + 1 <= settings.maxAnswerLength {
                    preliminary.append(Preliminary(window: windowIndex, start: start, end: end,
                                                   startLogit: Double(score.startLogits[start]),
                                                   endLogit: Double(score.endLogits[end]), order: preliminary.count))
                }
            }
        }
        if settings.nullScoreThreshold != nil, !windows.isEmpty {
            preliminary.append(Preliminary(window: nullLogits.window, start: 0, end: 0, startLogit: nullLogits.start,
                                           endLogit: nullLogits.end, order: preliminary.count))
        }
        preliminary.sort { a, b in
            let scoreA = a.startLogit + a.endLogit
            let scoreB = b.startLogit + b.endLogit
            return scoreA != scoreB ? scoreA > scoreB : a.order < b.order
        }

        var seen = Set<[Unicode.Scalar]>()
        var candidates: [SpanCandidate] = []
        for entry in preliminary {
            if candidates.count >= settings.nBest { break }
            var text = ""
            var characters: Range<Int>?
            if entry.start > 0 {
                let window = windows[entry.window]
                let range = window.characterRange(ofToken: entry.start)!.lowerBound
                    ..< window.characterRange(ofToken: entry.end)!.upperBound
                text = example.context.slice(range)
                characters = range
            }
            // Python compares texts as code-point sequences.
            guard seen.insert(Array(text.unicodeScalars)).inserted || entry.start == 0 else { continue }
            candidates.append(SpanCandidate(text: text, probability: 0, startLogit: entry.startLogit, endLogit: entry.endLogit,
                                            characters: characters, windowIndex: entry.window,
                                            startIndex: entry.start, endIndex: entry.end))
        }
        if settings.nullScoreThreshold != nil, !windows.isEmpty, !seen.contains([]) {
            candidates.append(SpanCandidate(text: "", probability: 0, startLogit: nullLogits.start, endLogit: nullLogits.end,
                                            characters: nil, windowIndex: nullLogits.window, startIndex: 0, endIndex: 0))
        }
        let probabilities = Self.probabilities(ofScores: candidates.map { $0.startLogit + $0.endLogit })
        for index in candidates.indices { candidates[index].probability = probabilities[index] }

        let bestNonNull = candidates.first { !$0.text.isEmpty }
        guard let threshold = settings.nullScoreThreshold else {
            return ExamplePrediction(key: example.predictionKey, text: candidates.first?.text ?? "", nBest: candidates,
                                     nullScoreDifference: nil)
        }
        guard let best = bestNonNull else {
            return ExamplePrediction(key: example.predictionKey, text: "", nBest: candidates, nullScoreDifference: nil)
        }
        let difference = nullScore - best.startLogit - best.endLogit
        return ExamplePrediction(key: example.predictionKey, text: difference > threshold ? "" : best.text,
                                 nBest: candidates, nullScoreDifference: difference)
    }

    /// Indices of the `count` largest logits, largest first; equal logits keep index order
    /// (Python's stable `sorted(..., reverse=True)`).
    static func bestIndexes(_ logits: [Float], count: Int) -> [Int] {
        var best: [Int] = []
        best.reserveCapacity(count + 1)
        for (index, logit) in logits.enumerated() {
            if best.count == count, let last = best.last, logits[last] >= logit { continue }
            var position = best.count
            while position > 0 && logits[best[position - 1]] < logit { position -= 1 }
            best.insert(index, at: position)
            if best.count > count { best.removeLast() }
        }
        return best
    }

    /// Softmax in double precision, as BERT's `_compute_softmax`: exp(score − max) / Σ.
    public static func probabilities(ofScores scores: [Double]) -> [Double] {
        guard let maxScore = scores.max() else { return [] }
        var exponentials: [Double] = []
        exponentials.reserveCapacity(scores.count)
        var total = 0.0
        for score in scores {
            let value = exp(score - maxScore)
            exponentials.append(value)
            total += value
        }
        return exponentials.map { $0 / total }
    }
}
