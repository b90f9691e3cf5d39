import Foundation
import Checkpoint
import MRC
import Text
import Training

/// The student's training windows as `teach` scores them and `distill` trains on them: every file's
/// examples, cut by the student's tokenizer and window settings, keeping the windows `train` would
/// keep (`TrainingData.isTrainable`), in file order. Both commands build it the same way, and the
/// soft-label store records its fingerprint, so a store always lines up with the windows it labels.
public struct DistillationData: Sendable {
    /// Every example of every file, in order (`windows[i].exampleIndex` indexes this).
    public var examples: [MRCExample]
    /// The trainable windows, in order.
    public var windows: [Window]
    /// One line per file: what the reader and the featuriser did.
    public var summaries: [String]
    public let settings: WindowSettings

    public static func load(files: [URL], tokenizer: WordPieceTokenizer, settings: WindowSettings,
                            strict: Bool = false) throws -> DistillationData {
        let builder = try WindowBuilder(tokenizer: tokenizer, settings: settings)
        var data = DistillationData(examples: [], windows: [], summaries: [], settings: settings)
        for file in files {
            let dataset = try MRCReader.read(file, strict: strict)
            let offset = data.examples.count
            let (windows, report) = builder.windows(for: dataset.examples)
            if strict { try report.requireNothingSkipped(file: file.path) }
            data.examples += dataset.examples
            data.summaries.append(dataset.report.summary)
            data.summaries.append("\(file.lastPathComponent): \(report.summary)")
            for var window in windows where TrainingData.isTrainable(window) {
                window.exampleIndex += offset
                data.windows.append(window)
            }
        }
        guard !data.windows.isEmpty else {
            throw TrainingError.invalidArgument("\(files.map(\.path).joined(separator: " ")): no trainable windows")
        }
        return data
    }

    /// The key of window `index` in the store: its question's prediction key.
    public func key(_ index: Int) -> String { examples[windows[index].exampleIndex].predictionKey }

    /// A fingerprint of the windows: each one's key, index, length and ids hash, in order.
    public var fingerprint: String {
        Training.fingerprint(windows.indices.map {
            "\(key($0))#\(windows[$0].windowIndex):\(windows[$0].length):\(String(SoftLabelStoreFormat.inputIdsHash(of: windows[$0]), radix: 16))"
        }.joined(separator: ","))
    }

    /// What a store for these windows must say about the student and the data; the teacher fields
    /// (teachers, combination, temperature, precision) are placeholders for `teach` to fill in.
    public func provenance(vocabulary: Vocabulary, lowercase: Bool) -> SoftLabelProvenance {
        SoftLabelProvenance(teachers: [], combination: .meanProbabilities, temperature: 1, precision: .fp16,
                            studentVocabHash: vocabulary.fingerprint, lowerCase: lowercase, maxSeqLen: settings.maxSeqLen,
                            docStride: settings.docStride, maxQueryLen: settings.maxQueryLen, dataFingerprint: fingerprint,
                            windowCount: windows.count)
    }

    /// The training windows the trainer's batches are made of.
    public var trainingWindows: [SpanTrainingWindow] { windows.map(SpanTrainingWindow.init) }
}

extension Vocabulary {
    /// A fingerprint of the vocabulary's tokens, in order (the store's `student vocab hash`).
    public var fingerprint: String { Training.fingerprint(tokens.joined(separator: "\n")) }
}
