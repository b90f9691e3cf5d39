/// A dataset's score under its official script: SQuAD v1.1, SQuAD v2.0 or MRQA.
public struct DatasetScore: Sendable {
    public var name: String
    public var file: String
    public var format: MRCDataset.Format
    /// Percentages, as the official scripts print them.
    public var exactMatch: Double
    public var f1: Double
    /// Questions scored (the denominator).
    public var count: Int
    /// Questions without a prediction (scored 0 in v1.1/MRQA, as "no answer" in v2.0).
    public var missing: Int
    /// SQuAD v2.0 only.
    public var squad2: SQuAD2Breakdown?
    /// SQuAD v2.0 predictions by a model: the null-score threshold its answers were decided at (`predict`
    /// abstains where null score − best span score exceeds it), and the file it was searched on, if it was.
    public var nullScoreThreshold: Double?
    public var thresholdSource: String?
}

/// The extra numbers of the SQuAD v2.0 script.
public struct SQuAD2Breakdown: Sendable {
    public var hasAnswer: (exactMatch: Double, f1: Double, count: Int)?
    public var noAnswer: (exactMatch: Double, f1: Double, count: Int)?
    /// Present when no-answer probabilities were given.
    public var best: (exactMatch: Double, exactThreshold: Double, f1: Double, f1Threshold: Double)?
    /// Questions answered "no answer": an empty (or missing) prediction, or a no-answer probability above the
    /// threshold — the "NoAns share" of a model is `abstained / count`.
    public var abstained = 0
}

/// Scores predictions against a dataset with the official semantics of its format.
public enum DatasetEvaluation {
    /// - Parameters:
    ///   - predictions: question key → answer text; for MRQA a question's `qid`, or its SQuAD `id`
    ///     when no prediction is keyed by the `qid`.
    ///   - noAnswerProbabilities: SQuAD v2.0 `na_probs` (in file order), enabling best thresholds.
    ///   - noAnswerThreshold: SQuAD v2.0 `--na-prob-thresh` (a question whose probability is above it
    ///     is treated as unanswered).
    public static func evaluate(_ dataset: MRCDataset, predictions: [String: String],
                                noAnswerProbabilities: [(key: String, probability: Double)]? = nil,
                                noAnswerThreshold: Double = 1.0) -> DatasetScore {
        switch dataset.format {
        case .squad1: return evaluateV1(dataset, predictions: predictions)
        case .mrqa: return evaluateMRQA(dataset, predictions: predictions)
        case .squad2:
            return SQuAD2Evaluation.evaluate(dataset, predictions: predictions,
                                             noAnswerProbabilities: noAnswerProbabilities,
                                             noAnswerThreshold: noAnswerThreshold)
        }
    }

    /// `evaluate-v1.1.py`: every question counts; an unanswered one scores 0.
    static func evaluateV1(_ dataset: MRCDataset, predictions: [String: String]) -> DatasetScore {
        var exactMatch = 0.0
        var f1 = 0.0
        var missing = 0
        for example in dataset.examples {
            guard let prediction = predictions[example.id] else { missing += 1; continue }
            let scores = SQuADMetric.bestScores(prediction: prediction, groundTruths: example.answerTexts)
            exactMatch += scores.exactMatch
            f1 += scores.f1
        }
        let total = Double(dataset.examples.count)
        return DatasetScore(name: dataset.name, file: dataset.file, format: dataset.format,
                            exactMatch: 100.0 * exactMatch / total, f1: 100.0 * f1 / total,
                            count: dataset.examples.count, missing: missing)
    }

    /// `mrqa_official_eval.py`: answers keyed by `qid` (a repeated `qid` counts once, with its last
    /// answers, as the script's dict does); a question without a prediction scores 0 and counts.
    static func evaluateMRQA(_ dataset: MRCDataset, predictions: [String: String]) -> DatasetScore {
        var order: [String] = []
        var latest: [String: Int] = [:]
        for (index, example) in dataset.examples.enumerated() {
            if latest.updateValue(index, forKey: example.predictionKey) == nil { order.append(example.predictionKey) }
        }
        var exactMatch = 0.0
        var f1 = 0.0
        var missing = 0
        for key in order {
            let example = dataset.examples[latest[key]!]
            guard let prediction = predictions[key] ?? (example.id.isEmpty ? nil : predictions[example.id]) else {
                missing += 1
                continue
            }
            let scores = SQuADMetric.bestScores(prediction: prediction, groundTruths: example.answerTexts)
            exactMatch += scores.exactMatch
            f1 += scores.f1
        }
        let total = Double(order.count)
        return DatasetScore(name: dataset.name, file: dataset.file, format: dataset.format,
                            exactMatch: 100.0 * exactMatch / total, f1: 100.0 * f1 / total,
                            count: order.count, missing: missing)
    }
}
