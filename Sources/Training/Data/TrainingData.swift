import Foundation
import MRC
import Model
import Text

/// Training windows built from SQuAD / MRQA files, with what was left out and why.
public struct TrainingData: Sendable {
    /// Windows the trainer uses, in file order.
    public var windows: [SpanTrainingWindow]
    /// Windows of examples whose answer maps onto no token: left out, since labelling them
    /// `[CLS]` would teach "no answer" for an answerable question.
    public var unlabelledWindows: Int
    public var examples: Int
    /// Of `windows`, those of unanswerable questions (SQuAD 2.0), labelled `[CLS]`: the model learns to abstain
    /// (`ModelAnswerability`).
    public var unanswerableWindows = 0
    /// One line per file and for the featurisation (skipped records, truncated questions, …).
    public var summaries: [String]

    /// Reads every file (SQuAD .json or MRQA .jsonl[.gz]) and cuts its examples into windows.
    public static func load(files: [URL], tokenizer: any Tokenizer, settings: WindowSettings,
                            strict: Bool = false) throws -> TrainingData {
        let builder = try WindowBuilder(tokenizer: tokenizer, settings: settings)
        var data = TrainingData(windows: [], unlabelledWindows: 0, examples: 0, summaries: [])
        for file in files {
            let dataset = try MRCReader.read(file, strict: strict)
            let (windows, report) = builder.windows(for: dataset.examples)
            if strict { try report.requireNothingSkipped(file: file.path) }
            data.examples += dataset.examples.count
            data.summaries.append(dataset.report.summary)
            data.summaries.append("\(file.lastPathComponent): \(report.summary)")
            for window in windows {
                if !isTrainable(window) {
                    data.unlabelledWindows += 1
                    continue
                }
                if window.label == .impossible { data.unanswerableWindows += 1 }
                data.windows.append(SpanTrainingWindow(window))
            }
        }
        guard !data.windows.isEmpty else {
            throw TrainingError.invalidArgument("--train \(files.map(\.path).joined(separator: " ")): no trainable windows")
        }
        return data
    }
}

extension TrainingData {
    /// Whether a window is trained on: all but those of examples whose answer maps onto no token
    /// (labelling them `[CLS]` would teach "no answer" for an answerable question).
    public static func isTrainable(_ window: Window) -> Bool { window.label != .unlabelled }
}

extension SpanTrainingWindow {
    /// The real tokens and labels of an MRC window (its padding is dropped: batches re-pad). An unlabelled
    /// window (a transfer-set window: only `distill` keeps them) gets `SpanLoss.ignoredPosition`: no gold.
    public init(_ window: Window) {
        let gold = window.label == .unlabelled
            ? (SpanLoss.ignoredPosition, SpanLoss.ignoredPosition) : (Int32(window.startPosition), Int32(window.endPosition))
        self.init(inputIds: Array(window.inputIds[0..<window.length]),
                  tokenTypeIds: Array(window.tokenTypeIds[0..<window.length]),
                  startPosition: gold.0, endPosition: gold.1)
    }
}
