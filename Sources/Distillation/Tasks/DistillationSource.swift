import Checkpoint
import Foundation
import MRC
import Text
import Training

/// The questions of the training files and how the student cuts them, with the windows produced a chunk
/// of questions at a time: `teach` labels them without holding them all (a window holds ~10 KB, so
/// MRQA-size data would need gigabytes), `DistillationData` collects them for `distill`. Both see the same
/// windows in the same order: every file's trainable windows (`TrainingData.isTrainable`), in file order,
/// then every window of the transfer files: questions whose gold answers, if they have any, are not used, so
/// that the student learns them from the teachers' soft labels alone (Hinton et al.'s transfer set).
public struct DistillationSource: Sendable {
    /// Every question of every file, in order (a window's `exampleIndex` indexes this).
    public let examples: [MRCExample]
    public let settings: WindowSettings
    /// Each file, the range of its questions in `examples`, and whether it is a transfer file.
    public let files: [(url: URL, examples: Range<Int>, transfer: Bool)]
    /// One line per file: what its reader did.
    public let readerSummaries: [String]
    public let strict: Bool
    let builder: WindowBuilder

    /// Reads every file (SQuAD .json or MRQA .jsonl[.gz]), then every `transfer` file; `strict` refuses a
    /// record a reader or the featurisation would skip.
    public static func read(files: [URL], transfer: [URL] = [], tokenizer: any Tokenizer, settings: WindowSettings,
                            strict: Bool = false) throws -> DistillationSource {
        var examples: [MRCExample] = []
        var ranges: [(url: URL, examples: Range<Int>, transfer: Bool)] = []
        var summaries: [String] = []
        for (file, isTransfer) in files.map({ ($0, false) }) + transfer.map({ ($0, true) }) {
            let dataset = try MRCReader.read(file, strict: strict)
            ranges.append((file, examples.count..<(examples.count + dataset.examples.count), isTransfer))
            examples += dataset.examples
            summaries.append(dataset.report.summary + (isTransfer ? " (transfer set: gold not used)" : ""))
        }
        return DistillationSource(examples: examples, settings: settings, files: ranges, readerSummaries: summaries,
                                  strict: strict, builder: try WindowBuilder(tokenizer: tokenizer, settings: settings))
    }

    /// Calls `body` with the trainable windows of `chunkQuestions` consecutive questions of one file at a time,
    /// in order; returns one featurisation summary per file ("file: N examples → M windows; …").
    ///
    /// With `skipping` (the window index each chunk starts at, from `survey`), chunks whose windows all lie
    /// before window `from` are not featurised: `body` first sees the chunk holding `from` (and the summaries
    /// count only what was featurised).
    @discardableResult
    public func forEachWindowChunk(chunkQuestions: Int = 512, from first: Int = 0, skipping chunkStarts: [Int]? = nil,
                                   _ body: ([Window]) throws -> Void) throws -> [String] {
        var summaries: [String] = []
        var chunkNumber = 0
        for (url, range, transfer) in files {
            var report = FeatureReport()
            for start in stride(from: range.lowerBound, to: range.upperBound, by: chunkQuestions) {
                let chunk = start..<min(range.upperBound, start + chunkQuestions)
                defer { chunkNumber += 1 }
                if let starts = chunkStarts, chunkNumber + 1 < starts.count, starts[chunkNumber + 1] <= first { continue }
                let (windows, part) = builder.windows(for: Array(examples[chunk]), labelled: !transfer)
                report.add(part)
                if strict { try report.requireNothingSkipped(file: url.path) }
                try body(windows.filter { transfer || TrainingData.isTrainable($0) }.map { window in
                    var window = window
                    window.exampleIndex += chunk.lowerBound
                    return window
                })
            }
            summaries.append("\(url.lastPathComponent): \(report.summary)")
        }
        return summaries
    }

    /// How many trainable windows there are and their fingerprint (`DistillationData.fingerprint`), in one
    /// pass that holds a chunk of windows at a time; with the reader and featurisation summaries, and where
    /// each chunk of questions starts among the windows (for `forEachWindowChunk(from:skipping:)`).
    public func survey() throws -> WindowSurvey {
        var count = 0
        var hasher = Fingerprinter()
        var chunkStarts: [Int] = [], lengths: [Int] = []
        let features = try forEachWindowChunk { windows in
            chunkStarts.append(count)
            for window in windows {
                lengths.append(window.length)
                hasher.add((count == 0 ? "" : ",") + DistillationSource.fingerprintEntry(key: examples[window.exampleIndex].predictionKey, window: window))
                count += 1
            }
        }
        guard count > 0 else {
            throw TrainingError.invalidArgument("\(files.map(\.url.path).joined(separator: " ")): no trainable windows")
        }
        return WindowSurvey(count: count, fingerprint: hasher.value, summaries: summaries(features: features),
                            chunkStarts: chunkStarts, lengths: lengths)
    }

    /// Each file's reader line followed by its featurisation line (`features`, from `forEachWindowChunk`).
    public func summaries(features: [String]) -> [String] {
        zip(readerSummaries, features).flatMap { [$0, $1] }
    }

    /// One window's part of the data fingerprint: its question's key, index, length and ids hash.
    static func fingerprintEntry(key: String, window: Window) -> String {
        "\(key)#\(window.windowIndex):\(window.length):\(String(SoftLabelStoreFormat.inputIdsHash(of: window), radix: 16))"
    }
}

/// What one pass over a `DistillationSource` found.
public struct WindowSurvey: Sendable {
    public var count: Int
    public var fingerprint: String
    /// Reader and featurisation lines, one pair per file.
    public var summaries: [String]
    /// The index of the first window of each chunk of questions (default chunk size), in order.
    public var chunkStarts: [Int]
    /// Every window's real token count, in order (what the run estimate costs).
    public var lengths: [Int]
}
