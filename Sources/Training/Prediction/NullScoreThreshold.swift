import Foundation
import MRC

/// What `useBestThreshold` found on a SQuAD 2.0 file.
public struct NullThresholdChoice: Sendable {
    /// The threshold now applied: the decoder abstains where null score − best span score exceeds it.
    public var threshold: Double
    /// The file it was searched on.
    public var file: URL
    /// The official best_f1 on that file (answering at `threshold` scores it) and the F1 at threshold 0.
    public var bestF1: Double
    public var f1AtZero: Double
    /// Whether answering nothing is best there (the threshold then lies below every null odds of the file).
    public var answersNothing: Bool

    /// The line `predict` and `score` print on stderr.
    public var summary: String {
        String(format: "null-score threshold %.6g: best_f1_thresh of %@ (best F1 %.2f there, F1 %.2f at threshold 0)%@",
               threshold, file.path, bestF1, f1AtZero, answersNothing ? "; answering nothing is best there" : "")
    }
}

extension Predictor {
    /// SQuAD 2.0: the official `best_exact` / `best_f1` and their thresholds over the null odds (`find_best_thresh`
    /// of evaluate-v2.0.py), each question answered by its best span — the answer the decoder gives at every
    /// threshold its null odds do not exceed. That is the official script run on the predictions that
    /// `--null-score-threshold inf` writes with their null_odds.json, whatever threshold `predictions` were
    /// decided at: answering at best_f1_thresh then scores best_f1 (run on threshold-0 predictions, the
    /// official script could only ever find thresholds that abstain more). Nil without null odds.
    public static func bestThresholds(_ dataset: MRCDataset, predictions: [ExamplePrediction])
        -> (exactMatch: Double, exactThreshold: Double, f1: Double, f1Threshold: Double)? {
        let odds = predictions.compactMap { prediction in prediction.nullScoreDifference.map { (key: prediction.key, probability: $0) } }
        guard !odds.isEmpty else { return nil }
        var spans: [String: String] = [:]
        for prediction in predictions { spans[prediction.key] = prediction.nBest.first { !$0.text.isEmpty }?.text ?? "" }
        return DatasetEvaluation.evaluate(dataset, predictions: spans, noAnswerProbabilities: odds,
                                          noAnswerThreshold: .infinity).squad2?.best
    }

    /// The decoder threshold that reproduces the official best F1 of a file: its `best_f1_thresh`, except when
    /// answering nothing is best. The official walk then never moves from its start, abstaining on every
    /// question, and reports 0.0, which would answer every question whose null odds are ≤ 0; a threshold below
    /// every null odds of the file (`smallestOdds` − 1) abstains on them all, as the score assumes.
    public static func applicableThreshold(bestF1: Double, bestF1Threshold: Double, answerNothingF1: Double,
                                           smallestOdds: Double) -> (threshold: Double, answersNothing: Bool) {
        guard bestF1 == answerNothingF1 else { return (bestF1Threshold, false) }
        return (Swift.min(smallestOdds - 1, bestF1Threshold), true)
    }

    /// `--null-score-threshold best --threshold-data FILE`: predicts `file` (SQuAD 2.0 with gold answers) into
    /// `scratch` (its prediction files and eval.json), then sets the decoder's threshold to the one reproducing
    /// the file's official best_f1 (`applicableThreshold`) and records `file` as its source. Refuses a file
    /// without unanswerable questions, or one where no question got a null score.
    @discardableResult
    public func useBestThreshold(from file: URL, scratch: URL, showProgress: Bool? = nil,
                                 log: (String) -> Void = { _ in }) throws -> NullThresholdChoice {
        decoder.settings.nullScoreThreshold = nil
        thresholdSource = nil
        let result = try predict(file: file, into: scratch, showProgress: showProgress)
        let report = EvaluationReport(predictionsFile: scratch.path, datasets: [result.score], groups: [])
        do {
            try Data(report.json.utf8).write(to: scratch.appendingPathComponent("eval.json"), options: .atomic)
        } catch {
            throw TrainingError.io("cannot write \(scratch.appendingPathComponent("eval.json").path): \(error.localizedDescription)")
        }
        guard result.dataset.format == .squad2 else {
            throw TrainingError.invalidArgument("--threshold-data \(file.path): not SQuAD 2.0 data (no unanswerable questions); "
                                                + "the threshold search needs a v2.0 file with gold answers")
        }
        guard let best = result.score.squad2?.best,
              let smallest = result.predictions.compactMap(\.nullScoreDifference).min() else {
            throw TrainingError.invalidArgument("--threshold-data \(file.path): no question got a null score (no valid span in any window)")
        }
        let noAnswers = result.score.squad2?.noAnswer?.count ?? 0
        let questions = result.score.count
        let applied = Self.applicableThreshold(bestF1: best.f1, bestF1Threshold: best.f1Threshold,
                                               answerNothingF1: 100.0 * Double(noAnswers) / Double(questions),
                                               smallestOdds: smallest)
        decoder.settings.nullScoreThreshold = applied.threshold
        thresholdSource = file.path
        let choice = NullThresholdChoice(threshold: applied.threshold, file: file, bestF1: best.f1, f1AtZero: result.score.f1,
                                         answersNothing: applied.answersNothing)
        log(choice.summary)
        return choice
    }
}
