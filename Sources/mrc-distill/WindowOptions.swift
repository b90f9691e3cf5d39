import ArgumentParser
import Foundation
import MRC
import Training

/// How questions and contexts are cut into windows, and how spans are decoded from them.
struct WindowOptions: ParsableArguments {
    @Option(name: .customLong("max-seq-len"), help: "Tokens per window, [CLS] and [SEP]s included.")
    var maxSeqLen = 384

    @Option(name: .customLong("doc-stride"), help: "Tokens a window's start advances by (BERT's doc_stride).")
    var docStride = 128

    @Option(name: .customLong("max-query-len"), help: "Question tokens kept.")
    var maxQueryLen = 64

    @Option(name: .customLong("n-best"), help: "Candidates kept per question (and top starts/ends tried per window).")
    var nBest = 20

    @Option(name: .customLong("max-answer-length"), help: "Longest answer, in tokens.")
    var maxAnswerLength = 30

    @Option(name: .customLong("null-score-threshold"), help: ArgumentHelp(
        "SQuAD 2.0: answer \"\" when null score − best span score exceeds this (default 0 on SQuAD 2.0 data and for "
        + "models trained on it); predict and score also take 'best' with --threshold-data FILE.", valueName: "x|best"))
    var nullScoreThreshold: NullScoreThresholdArgument?

    var windowSettings: WindowSettings {
        WindowSettings(maxSeqLen: maxSeqLen, docStride: docStride, maxQueryLen: maxQueryLen)
    }

    var decoderSettings: SpanDecoderSettings {
        SpanDecoderSettings(nBest: nBest, maxAnswerLength: maxAnswerLength, nullScoreThreshold: nullScoreThreshold?.value)
    }

    /// `searchable`: the command takes `--null-score-threshold best` (with `--threshold-data`).
    func validateWindows(searchable: Bool = false) throws {
        do { try windowSettings.validate() } catch { throw ValidationError(String(describing: error)) }
        guard nBest > 0 else { throw ValidationError("--n-best must be positive") }
        guard maxAnswerLength > 0 else { throw ValidationError("--max-answer-length must be positive") }
        if nullScoreThreshold == .best && !searchable {
            throw ValidationError("--null-score-threshold best is for predict and score (with --threshold-data FILE); give a number")
        }
    }
}

/// `--null-score-threshold`: a number, or `best` (searched on `--threshold-data`).
enum NullScoreThresholdArgument: ExpressibleByArgument, Equatable {
    case value(Double)
    case best

    init?(argument: String) {
        if argument == "best" { self = .best; return }
        guard let value = Double(argument), !value.isNaN else { return nil }
        self = .value(value)
    }

    /// The fixed threshold; nil for `best` (found later).
    var value: Double? {
        if case .value(let value) = self { return value }
        return nil
    }
}

/// `--threshold-data FILE` of predict and score: the SQuAD 2.0 file `--null-score-threshold best` is searched on.
struct ThresholdSearchOptions: ParsableArguments {
    @Option(name: .customLong("threshold-data"), help: ArgumentHelp(
        "With --null-score-threshold best: a SQuAD 2.0 file with gold answers, predicted first; its official best_f1_thresh "
        + "(over its null odds) is applied to the --data files.", valueName: "file"))
    var thresholdData: String?

    /// Checks the pair: `best` needs a threshold file, a threshold file needs `best`, and the file must exist.
    func validate(with threshold: NullScoreThresholdArgument?) throws {
        if threshold == .best && thresholdData == nil {
            throw ValidationError("--null-score-threshold best needs --threshold-data FILE (a SQuAD 2.0 file with gold answers)")
        }
        if let thresholdData {
            guard threshold == .best else {
                throw ValidationError("--threshold-data \(thresholdData) is used with --null-score-threshold best only")
            }
            try refuse { try Preflight.checkFiles([URL(fileURLWithPath: thresholdData)], option: "--threshold-data") }
        }
    }

    var url: URL? { thresholdData.map(URL.init(fileURLWithPath:)) }
}
