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

    public static func load(files: [URL], tokenizer: WordPieceTokenizer, settings: WindowSettings) throws -> DistillationData {
        let builder = try WindowBuilder(tokenizer: tokenizer, settings: settings)
        var data = DistillationData(examples: [], windows: [], summaries: [], settings: settings)
        for file in files {
            let dataset = try MRCReader.read(file)
            let offset = data.examples.count
            let (windows, report) = builder.windows(for: dataset.examples)
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

    /// FNV-1a of a window's real input ids (the store keeps it per record).
    public static func inputIdsHash(_ window: Window) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for id in window.inputIds[0..<window.length] {
            var value = UInt32(bitPattern: id)
            for _ in 0..<4 {
                hash ^= UInt64(value & 0xFF)
                hash &*= 0x0000_0100_0000_01B3
                value >>= 8
            }
        }
        return hash
    }

    /// A fingerprint of the windows: each one's key, index, length and ids hash, in order.
    public var fingerprint: String {
        Training.fingerprint(windows.indices.map {
            "\(key($0))#\(windows[$0].windowIndex):\(windows[$0].length):\(String(Self.inputIdsHash(windows[$0]), radix: 16))"
        }.joined(separator: ","))
    }

    /// The training windows the trainer's batches are made of.
    public var trainingWindows: [SpanTrainingWindow] { windows.map(SpanTrainingWindow.init) }
}

extension Vocabulary {
    /// A fingerprint of the vocabulary's tokens, in order (the store's `student vocab hash`).
    public var fingerprint: String { Training.fingerprint(tokens.joined(separator: "\n")) }
}
