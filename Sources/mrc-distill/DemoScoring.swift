import Distillation
import Foundation
import MRC
import Text
import Training

/// What the demo and the recipes measure of one model (or ensemble) on the evaluation files.
struct ModelScores {
    var datasets: [DatasetScore]
    var parameters: Int
    /// Real tokens per second of the batched inference forward over every file's windows.
    var tokensPerSecond: Double
    /// Wall seconds per 1,000 questions of `predict` (windows, forward, decoding, files), over every file.
    var secondsPer1kQuestions: Double
}

/// Predicts every file with the model in `directory` (EMA weights when `ema`), writing the prediction
/// files under `out`, and measures inference throughput.
func scoreModel(_ directory: URL, ema: Bool, files: [URL], windows: WindowOptions, out: URL) throws -> ModelScores {
    let trainable = try BertSpanTrainable(directory: directory, weightsFile: ema ? "ema.safetensors" : nil)
    let tokenizer = trainable.tokenizer
    let scorer = try ModelScorer(model: trainable.model)
    return try scoreModel(LoadedScorer(scorer: scorer, tokenizer: tokenizer, fingerprint: "", untrainedHeads: []),
                          files: files, windows: windows, out: out)
}

/// Predicts every file with a loaded model or ensemble, writing the prediction files under `out`; with
/// `thresholdData` (`--null-score-threshold best`), at the threshold found on it (`Predictor.useBestThreshold`).
func scoreModel(_ loaded: LoadedScorer, files: [URL], windows: WindowOptions, out: URL, thresholdData: URL? = nil) throws -> ModelScores {
    let predictor = try loaded.predictor(windows: windows)
    if let thresholdData {
        try predictor.useBestThreshold(from: thresholdData, scratch: out.appendingPathComponent("threshold-data"), log: report)
    }
    var scores: [DatasetScore] = [], tokens = 0, seconds = 0.0, questions = 0
    for file in files {
        let result = try predictor.predict(file: file, into: Predictor.directory(for: file, among: files, out: out))
        scores.append(result.score)
        tokens += result.tokens
        seconds += result.seconds
        questions += result.dataset.examples.count
    }
    return ModelScores(datasets: scores, parameters: loaded.scorer.parameterCount,
                       tokensPerSecond: seconds > 0 ? Double(tokens) / seconds : 0,
                       secondsPer1kQuestions: questions > 0 ? seconds * 1000 / Double(questions) : 0)
}

/// A black-box teacher's own answers (its top candidate) scored on `file`.
func scoreBlackBox(_ predictions: URL, on file: URL) throws -> DatasetScore {
    let teacher = try BlackBoxPredictions.read(predictions)
    var answers: [String: String] = [:]
    for (key, candidates) in teacher.candidates {
        if let best = candidates.max(by: { $0.probability < $1.probability }) { answers[key] = best.text }
    }
    return DatasetEvaluation.evaluate(try MRCReader.read(file), predictions: answers)
}

extension ReportRow {
    /// A row from the scores on [in-domain files..., out-of-domain files...], the first `inDomain` in-domain.
    init(name: String, kind: Kind, command: String, scores: [DatasetScore], inDomain: Int = 1, parameters: Int? = nil,
         tokensPerSecond: Double? = nil, secondsPer1kQuestions: Double? = nil, teachSeconds: Double? = nil,
         distillSeconds: Double? = nil, model: String? = nil, metrics: String? = nil) {
        var inDomainF1: [String: Double] = [:], ood: [String: Double] = [:]
        for score in scores.prefix(inDomain) where inDomain > 1 { inDomainF1[score.name] = score.f1 }
        for score in scores.dropFirst(inDomain) { ood[score.name] = score.f1 }
        self.init(name: name, kind: kind, command: command, squadEM: scores[0].exactMatch, squadF1: scores[0].f1,
                  inDomainF1: inDomainF1, oodF1: ood, parameters: parameters, tokensPerSecond: tokensPerSecond,
                  secondsPer1kQuestions: secondsPer1kQuestions, teachSeconds: teachSeconds,
                  distillSeconds: distillSeconds, model: model, metrics: metrics)
        if let v2 = scores[0].squad2 { squad2 = ReportRow.SQuAD2Scores(scores[0], v2) }
    }
}

/// Appends rows to a rows.jsonl file (the report's input).
func appendRows(_ rows: [ReportRow], to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var text = FileManager.default.fileExists(atPath: url.path) ? try String(contentsOf: url, encoding: .utf8) : ""
    for row in rows { text += String(decoding: try encoder.encode(row), as: UTF8.self) + "\n" }
    try Data(text.utf8).write(to: url, options: .atomic)
}

extension ReportRow.SQuAD2Scores {
    /// The no-answer columns of a SQuAD 2.0 dataset's score.
    init(_ score: DatasetScore, _ v2: SQuAD2Breakdown) {
        self.init(hasAnswerF1: v2.hasAnswer?.f1, noAnswerF1: v2.noAnswer?.f1, bestF1: v2.best?.f1,
                  noAnswerShare: score.count > 0 ? 100 * Double(v2.abstained) / Double(score.count) : nil,
                  nullScoreThreshold: score.nullScoreThreshold)
    }

    /// "HasAns F1 …, NoAns F1 …, best F1 …, NoAns share …% at threshold …" (what `score` prints).
    var summary: String {
        func number(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "—" }
        return "HasAns F1 \(number(hasAnswerF1)), NoAns F1 \(number(noAnswerF1)), best F1 \(number(bestF1)), "
            + "NoAns share \(number(noAnswerShare))%" + (nullScoreThreshold.map { String(format: " at null-score threshold %.6g", $0) } ?? "")
    }
}
