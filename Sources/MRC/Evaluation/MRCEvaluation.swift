import Foundation

/// Evaluation of a predictions file on several data files, as `mrc-distill evaluate` runs it.
public enum MRCEvaluation {
    /// The MRQA groups, in output order.
    public static let inDomain = "in_domain"
    public static let outOfDomain = "out_of_domain"

    /// Reads a predictions file: a JSON object mapping question ids (SQuAD ids or MRQA qids) to answer texts.
    public static func readPredictions(_ url: URL) throws -> [String: String] {
        let object = try FlatJSONObject.read(url)
        var predictions: [String: String] = [:]
        predictions.reserveCapacity(object.keys.count)
        for key in object.keys {
            guard case .string(let text) = object[key]! else {
                throw DataReadError(file: url.path, location: "question \(key)", field: key,
                                    message: "a prediction must be an answer string")
            }
            predictions[key] = text
        }
        return predictions
    }

    /// Reads SQuAD v2.0 no-answer probabilities (`na_probs`): question id → number, in file order.
    public static func readNoAnswerProbabilities(_ url: URL) throws -> [(key: String, probability: Double)] {
        let object = try FlatJSONObject.read(url)
        return try object.keys.map { key in
            guard case .number(let value) = object[key]! else {
                throw DataReadError(file: url.path, location: "question \(key)", field: key,
                                    message: "a no-answer probability must be a number")
            }
            return (key, value)
        }
    }

    /// The group a data file belongs to by its folders (`in_domain/`, `out_of_domain/`), if any.
    public static func group(ofFile url: URL) -> String? {
        let folders = url.standardizedFileURL.deletingLastPathComponent().pathComponents
        if folders.contains(inDomain) { return inDomain }
        if folders.contains(outOfDomain) { return outOfDomain }
        return nil
    }

    /// Scores `predictions` on each dataset and averages the groups.
    /// - Parameters:
    ///   - datasets: the datasets with their group (nil: in no group), in output order. Datasets that
    ///     share a name (e.g. an MRQA header's "SQuAD" for both train and dev) are told apart by file stem.
    public static func evaluate(_ datasets: [(dataset: MRCDataset, group: String?)], predictions: [String: String],
                                predictionsFile: String,
                                noAnswerProbabilities: [(key: String, probability: Double)]? = nil,
                                noAnswerThreshold: Double = 1.0) -> EvaluationReport {
        var nameCounts: [String: Int] = [:]
        for entry in datasets { nameCounts[entry.dataset.name, default: 0] += 1 }
        var scores: [DatasetScore] = []
        var groups: [(name: String, datasets: [String])] = [(inDomain, []), (outOfDomain, [])]
        for entry in datasets {
            var score = DatasetEvaluation.evaluate(entry.dataset, predictions: predictions,
                                                   noAnswerProbabilities: noAnswerProbabilities,
                                                   noAnswerThreshold: noAnswerThreshold)
            if nameCounts[entry.dataset.name]! > 1 { score.name = DataFile.stem(of: URL(fileURLWithPath: entry.dataset.file)) }
            scores.append(score)
            if let group = entry.group {
                if let index = groups.firstIndex(where: { $0.name == group }) {
                    groups[index].datasets.append(score.name)
                } else {
                    groups.append((group, [score.name]))
                }
            }
        }
        return EvaluationReport(predictionsFile: predictionsFile, datasets: scores, groups: groups)
    }
}
