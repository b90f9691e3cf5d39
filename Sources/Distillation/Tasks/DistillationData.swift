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

    public static func load(files: [URL], transfer: [URL] = [], tokenizer: any Tokenizer, settings: WindowSettings,
                            strict: Bool = false) throws -> DistillationData {
        let source = try DistillationSource.read(files: files, transfer: transfer, tokenizer: tokenizer, settings: settings,
                                                 strict: strict)
        var windows: [Window] = []
        let features = try source.forEachWindowChunk { windows += $0 }
        guard !windows.isEmpty else {
            throw TrainingError.invalidArgument("\((files + transfer).map(\.path).joined(separator: " ")): no trainable windows")
        }
        return DistillationData(examples: source.examples, windows: windows,
                                summaries: source.summaries(features: features), settings: settings)
    }

    /// Windows of unanswerable questions (SQuAD 2.0): gold span `[CLS]`, as the soft labels' mass
    /// (`ModelAnswerability` records that the student learnt to abstain).
    public var unanswerableWindows: Int { windows.filter { $0.label == .impossible }.count }

    /// The indices of the transfer-set windows: no gold, trained on the soft labels alone.
    public var transferWindowIndices: [Int] { windows.indices.filter { windows[$0].label == .unlabelled } }
    public var transferWindows: Int { transferWindowIndices.count }

    /// The key of window `index` in the store: its question's prediction key.
    public func key(_ index: Int) -> String { examples[windows[index].exampleIndex].predictionKey }

    /// A fingerprint of the windows: each one's key, index, length and ids hash, in order.
    public var fingerprint: String {
        Training.fingerprint(windows.indices.map {
            DistillationSource.fingerprintEntry(key: key($0), window: windows[$0])
        }.joined(separator: ","))
    }

    /// What a store for these windows must say about the student and the data; the teacher fields
    /// (teachers, combination, temperature, precision) are placeholders for `teach` to fill in.
    public func provenance(vocabulary: Vocabulary, lowercase: Bool) -> SoftLabelProvenance {
        DistillationData.provenance(vocabulary: vocabulary, lowercase: lowercase, settings: settings, fingerprint: fingerprint,
                                    windowCount: windows.count)
    }

    /// The provenance of windows known by their settings, fingerprint and count (`DistillationSource.survey`).
    public static func provenance(vocabulary: Vocabulary, lowercase: Bool, settings: WindowSettings, fingerprint: String,
                                  windowCount: Int) -> SoftLabelProvenance {
        SoftLabelProvenance(teachers: [], combination: .meanProbabilities, temperature: 1, precision: .fp16,
                            studentVocabHash: vocabulary.fingerprint, lowerCase: lowercase, maxSeqLen: settings.maxSeqLen,
                            docStride: settings.docStride, maxQueryLen: settings.maxQueryLen, dataFingerprint: fingerprint,
                            windowCount: windowCount)
    }

    /// The training windows the trainer's batches are made of.
    public var trainingWindows: [SpanTrainingWindow] { windows.map(SpanTrainingWindow.init) }
}

extension Vocabulary {
    /// A fingerprint of the vocabulary's tokens, in order (the store's `student vocab hash`).
    public var fingerprint: String { Training.fingerprint(tokens.joined(separator: "\n")) }
}
