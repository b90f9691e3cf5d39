import Foundation

/// Writes decoded predictions in the files of BERT's `run_squad.py`: `predictions.json`
/// (key → answer text), `nbest_predictions.json` (key → [{text, probability, start_logit,
/// end_logit}]), and for SQuAD 2.0 `null_odds.json` (key → null score difference).
public enum PredictionWriter {
    /// Writes the files into `directory` (created if needed); returns their URLs.
    @discardableResult
    public static func write(_ predictions: [ExamplePrediction], to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var answers: [(String, JSONText)] = []
        var nBest: [(String, JSONText)] = []
        var nullOdds: [(String, JSONText)] = []
        for prediction in predictions {
            answers.append((prediction.key, .string(prediction.text)))
            nBest.append((prediction.key, .array(prediction.nBest.map { candidate in
                .object([("text", .string(candidate.text)), ("probability", .number(candidate.probability)),
                         ("start_logit", .number(candidate.startLogit)), ("end_logit", .number(candidate.endLogit))])
            })))
            if let difference = prediction.nullScoreDifference { nullOdds.append((prediction.key, .number(difference))) }
        }
        var files = [(directory.appendingPathComponent("predictions.json"), JSONText.object(answers)),
                     (directory.appendingPathComponent("nbest_predictions.json"), JSONText.object(nBest))]
        if !nullOdds.isEmpty { files.append((directory.appendingPathComponent("null_odds.json"), .object(nullOdds))) }
        for (url, content) in files {
            do {
                try Data((content.rendered + "\n").utf8).write(to: url, options: .atomic)
            } catch {
                throw DataReadError(file: url.path, message: "cannot write: \(error.localizedDescription)")
            }
        }
        return files.map(\.0)
    }
}

extension Array where Element == ExamplePrediction {
    /// Question key → predicted text: the content of `predictions.json`, ready for `DatasetEvaluation`.
    public var answers: [String: String] {
        Dictionary(map { ($0.key, $0.text) }, uniquingKeysWith: { first, _ in first })
    }
}
