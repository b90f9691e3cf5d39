/// `evaluate-v2.0.py`: per-question exact/F1 against the gold answers that survive normalisation
/// (or [""] for unanswerable questions), the no-answer threshold, HasAns/NoAns splits, and with
/// no-answer probabilities the best-threshold search.
///
/// The official script skips a question without a prediction and then fails computing HasAns/NoAns;
/// here such a question is scored as if "" (no answer) had been predicted, and counted as missing.
enum SQuAD2Evaluation {
    static func evaluate(_ dataset: MRCDataset, predictions: [String: String],
                         noAnswerProbabilities: [(key: String, probability: Double)]?,
                         noAnswerThreshold: Double) -> DatasetScore {
        // qid → position in first-seen order; a repeated id keeps its first position and last scores.
        var order: [String] = []
        var hasAnswer: [String: Bool] = [:]
        var exactRaw: [String: Double] = [:]
        var f1Raw: [String: Double] = [:]
        var missing = 0
        for example in dataset.examples {
            let id = example.id
            if hasAnswer.updateValue(!example.answerTexts.isEmpty, forKey: id) == nil { order.append(id) }
            var golds = example.answerTexts.filter { !AnswerNormalization.tokens($0).isEmpty }
            if golds.isEmpty { golds = [""] }
            let prediction: String
            if let given = predictions[id] { prediction = given } else { prediction = ""; missing += 1 }
            exactRaw[id] = golds.map { SQuADMetric.exactMatch(prediction: prediction, groundTruth: $0) ? 1.0 : 0.0 }.max()!
            f1Raw[id] = golds.map { SQuADMetric.f1V2(prediction: prediction, groundTruth: $0) }.max()!
        }

        var probabilities: [String: Double] = [:]
        for entry in noAnswerProbabilities ?? [] { probabilities[entry.key] = entry.probability }
        func thresholded(_ raw: [String: Double]) -> [String: Double] {
            var scores = raw
            for id in order where (probabilities[id] ?? 0) > noAnswerThreshold {
                scores[id] = hasAnswer[id]! ? 0 : 1
            }
            return scores
        }
        let exact = thresholded(exactRaw)
        let f1 = thresholded(f1Raw)
        func summary(_ ids: [String]) -> (exactMatch: Double, f1: Double, count: Int) {
            var exactSum = 0.0
            var f1Sum = 0.0
            for id in ids { exactSum += exact[id]!; f1Sum += f1[id]! }
            return (100.0 * exactSum / Double(ids.count), 100.0 * f1Sum / Double(ids.count), ids.count)
        }
        let all = summary(order)
        let hasAnswerIds = order.filter { hasAnswer[$0]! }
        let noAnswerIds = order.filter { !hasAnswer[$0]! }
        var breakdown = SQuAD2Breakdown()
        breakdown.abstained = order.filter { (probabilities[$0] ?? 0) > noAnswerThreshold || (predictions[$0] ?? "").isEmpty }.count
        if !hasAnswerIds.isEmpty { breakdown.hasAnswer = summary(hasAnswerIds) }
        if !noAnswerIds.isEmpty { breakdown.noAnswer = summary(noAnswerIds) }
        if let noAnswerProbabilities {
            // A question missing from the probabilities file sorts as probability 0 would, after it.
            var entries = noAnswerProbabilities
            var seen = Set(entries.map(\.key))
            for id in order where seen.insert(id).inserted { entries.append((id, 0)) }
            let best = bestThreshold(entries, scores: exactRaw, hasAnswer: hasAnswer, predictions: predictions, questionCount: order.count)
            let bestF1 = bestThreshold(entries, scores: f1Raw, hasAnswer: hasAnswer, predictions: predictions, questionCount: order.count)
            breakdown.best = (best.score, best.threshold, bestF1.score, bestF1.threshold)
        }
        return DatasetScore(name: dataset.name, file: dataset.file, format: .squad2, exactMatch: all.exactMatch,
                            f1: all.f1, count: all.count, missing: missing, squad2: breakdown)
    }

    /// `find_best_thresh`: walk questions by increasing no-answer probability (stable in file
    /// order), answering all up to each, and keep the best total.
    static func bestThreshold(_ entries: [(key: String, probability: Double)], scores: [String: Double],
                              hasAnswer: [String: Bool], predictions: [String: String],
                              questionCount: Int) -> (score: Double, threshold: Double) {
        // Python dict semantics: a repeated key keeps its first position and its last value.
        var firstPosition: [String: Int] = [:]
        var unique: [(key: String, probability: Double)] = []
        for entry in entries {
            if let position = firstPosition[entry.key] { unique[position].probability = entry.probability } else {
                firstPosition[entry.key] = unique.count
                unique.append(entry)
            }
        }
        let sorted = unique.enumerated().sorted {
            $0.element.probability != $1.element.probability ? $0.element.probability < $1.element.probability : $0.offset < $1.offset
        }.map(\.element)
        var current = Double(hasAnswer.values.filter { !$0 }.count)
        var best = current
        var threshold = 0.0
        for entry in sorted {
            guard let score = scores[entry.key] else { continue }
            let difference: Double
            if hasAnswer[entry.key]! {
                difference = score
            } else {
                difference = (predictions[entry.key] ?? "").isEmpty ? 0 : -1
            }
            current += difference
            if current > best {
                best = current
                threshold = entry.probability
            }
        }
        return (100.0 * best / Double(questionCount), threshold)
    }
}
