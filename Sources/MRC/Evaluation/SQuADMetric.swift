/// The official per-answer metrics: exact match and token F1 over normalised answers, and their
/// maximum over the ground truths. v1.1 (also MRQA's) and v2.0 differ only where an answer
/// normalises to nothing, so both F1 variants are here side by side.
public enum SQuADMetric {
    /// `exact_match_score`: the normalised strings are equal (scalar by scalar).
    public static func exactMatch(prediction: String, groundTruth: String) -> Bool {
        AnswerNormalization.tokens(prediction) == AnswerNormalization.tokens(groundTruth)
    }

    /// SQuAD v1.1 / MRQA `f1_score`: 0 when no token is shared — also when both answers
    /// normalise to nothing (EM is then 1 but F1 is 0, as in the official script).
    public static func f1(prediction: String, groundTruth: String) -> Double {
        f1(predictionTokens: AnswerNormalization.tokens(prediction),
           groundTruthTokens: AnswerNormalization.tokens(groundTruth))
    }

    static func f1(predictionTokens: [AnswerNormalization.Token], groundTruthTokens: [AnswerNormalization.Token]) -> Double {
        let numSame = sharedTokenCount(predictionTokens, groundTruthTokens)
        if numSame == 0 { return 0 }
        let precision = 1.0 * Double(numSame) / Double(predictionTokens.count)
        let recall = 1.0 * Double(numSame) / Double(groundTruthTokens.count)
        return (2 * precision * recall) / (precision + recall)
    }

    /// SQuAD v2.0 `compute_f1`: if either answer is empty after normalisation, 1 when both are, else 0.
    public static func f1V2(prediction: String, groundTruth: String) -> Double {
        let predictionTokens = AnswerNormalization.tokens(prediction)
        let groundTruthTokens = AnswerNormalization.tokens(groundTruth)
        if predictionTokens.isEmpty || groundTruthTokens.isEmpty {
            return predictionTokens == groundTruthTokens ? 1 : 0
        }
        return f1(predictionTokens: predictionTokens, groundTruthTokens: groundTruthTokens)
    }

    /// `sum((Counter(a) & Counter(b)).values())`: tokens shared, counted with multiplicity.
    static func sharedTokenCount(_ a: [AnswerNormalization.Token], _ b: [AnswerNormalization.Token]) -> Int {
        if a.isEmpty || b.isEmpty { return 0 }
        var counts: [AnswerNormalization.Token: Int] = [:]
        counts.reserveCapacity(a.count)
        for token in a { counts[token, default: 0] += 1 }
        var shared = 0
        for token in b {
            if let count = counts[token], count > 0 {
                counts[token] = count - 1
                shared += 1
            }
        }
        return shared
    }

    /// `metric_max_over_ground_truths` for exact match and v1.1 F1. With no ground truths the
    /// official script fails (`max` of an empty list); here the question scores 0.
    public static func bestScores(prediction: String, groundTruths: [String]) -> (exactMatch: Double, f1: Double) {
        let predictionTokens = AnswerNormalization.tokens(prediction)
        var exact = 0.0
        var best = 0.0
        for groundTruth in groundTruths {
            let groundTruthTokens = AnswerNormalization.tokens(groundTruth)
            if predictionTokens == groundTruthTokens { exact = 1 }
            best = max(best, f1(predictionTokens: predictionTokens, groundTruthTokens: groundTruthTokens))
        }
        return (exact, best)
    }
}
