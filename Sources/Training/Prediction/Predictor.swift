import Foundation
import MRC
import Model
import Text

/// The predictions and scores for one data file.
public struct DatasetPrediction: Sendable {
    public var dataset: MRCDataset
    public var predictions: [ExamplePrediction]
    /// EM/F1 against the file's gold answers (official SQuAD v1.1 / MRQA semantics).
    public var score: DatasetScore
    /// predictions.json, nbest_predictions.json (and null_odds.json for SQuAD 2.0).
    public var files: [URL]
    public var windows: Int
    public var seconds: Double
}

/// Runs a span-QA model over data files: windows, batched inference forward (no dropout, no saved
/// attention probabilities; windows of similar length batched together), the span decoder, the
/// prediction files, and the evaluation.
public final class Predictor {
    public let model: BertModel
    public let builder: WindowBuilder
    public let decoder: SpanDecoder
    public let batchSize: Int
    /// Refuse a data file whose reader would skip a record (`--strict`).
    public var strict = false
    /// Questions per chunk: windows and scores are held for one chunk at a time (see `predict`).
    public var chunkQuestions = 256
    /// What the predictions depend on besides the settings the predictor knows (model weights, precision):
    /// part of the resume journal's fingerprint. Empty (in-training dev evaluations, whose weights change):
    /// a stopped run is never resumed.
    public var runFingerprint = ""
    /// Where "resuming after …" goes.
    public var resumeLog: (String) -> Void = { _ in }
    /// Called with the number of chunks journaled after each one (the resume test stops a run there).
    public var afterChunk: ((Int) throws -> Void)?

    public init(model: BertModel, tokenizer: WordPieceTokenizer, windowSettings: WindowSettings,
                decoderSettings: SpanDecoderSettings, batchSize: Int = 32) throws {
        guard batchSize > 0 else { throw TrainingError.invalidArgument("--predict-batch-size must be positive") }
        self.model = model
        builder = try WindowBuilder(tokenizer: tokenizer, settings: windowSettings)
        decoder = SpanDecoder(settings: decoderSettings)
        self.batchSize = batchSize
    }

    /// Start/end logits of every window (real tokens only), in the order of `windows`; `progress` is
    /// told the number of windows done after each batch. Windows are sorted by length to batch alike
    /// ones together — within consecutive blocks of `block` windows when given, so that a window's
    /// batch (and so its bits) depends only on its block, not on the rest of the list.
    public func scores(_ windows: [Window], block: Int? = nil, progress: (Int) -> Void = { _ in }) throws -> [SpanScores] {
        var result = [SpanScores?](repeating: nil, count: windows.count)
        let size = block ?? max(1, windows.count)
        let order = stride(from: 0, to: windows.count, by: size).flatMap { first in
            (first..<min(windows.count, first + size)).sorted { (windows[$0].length, $0) < (windows[$1].length, $1) }
        }
        var start = 0
        while start < order.count {
            // Batches never straddle two blocks.
            let end = min(order.count, start + batchSize, block.map { (start / $0 + 1) * $0 } ?? order.count)
            let members = Array(order[start..<end])
            let longest = members.map { windows[$0].length }.max()!
            let width = min(windows[members[0]].inputIds.count, (longest + 7) / 8 * 8)
            var ids: [Int32] = [], types: [Int32] = [], mask: [Int32] = []
            ids.reserveCapacity(members.count * width)
            for index in members {
                ids += windows[index].inputIds[0..<width]
                types += windows[index].tokenTypeIds[0..<width]
                mask += windows[index].attentionMask[0..<width]
            }
            let batch = try EncoderBatch(batch: members.count, seqLen: width, inputIds: ids, tokenTypeIds: types, attentionMask: mask)
            let logits = try model.forward(batch, forTraining: false)
            for (row, index) in members.enumerated() {
                let range = row * width..<(row * width + windows[index].length)
                result[index] = SpanScores(startLogits: Array(logits.start[range]), endLogits: Array(logits.end[range]))
            }
            start = end
            progress(start)
        }
        return result.map { $0! }
    }

    /// Predicts every question of `file` and writes the prediction files into `directory`.
    ///
    /// Questions go through in chunks of `chunkQuestions`: windows, scores and decoding are held for one
    /// chunk at a time, so memory does not grow with the number of questions. Each finished chunk is
    /// journaled (`PredictionJournal`): a run that is stopped resumes after its last finished chunk. A
    /// progress bar with ETA is drawn on a terminal (`showProgress`, nil: only when stderr is one).
    public func predict(file: URL, into directory: URL, showProgress: Bool? = nil) throws -> DatasetPrediction {
        let started = Date()
        let dataset = try MRCReader.read(file, strict: strict)
        let examples = dataset.examples
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Without a run fingerprint (the model's identity) a journal could belong to other weights: never resume.
        var journal = try PredictionJournal(url: directory.appendingPathComponent("predictions.journal.jsonl"),
                                            fingerprint: runFingerprint.isEmpty ? nil : fingerprint(of: file))
        let chunks = stride(from: 0, to: examples.count, by: chunkQuestions).map { $0..<min(examples.count, $0 + chunkQuestions) }
        if !journal.finished.isEmpty {
            resumeLog("\(file.lastPathComponent): resuming after \(journal.finished.count) of \(chunks.count) chunks "
                      + "(\(journal.finished.joined().count) of \(examples.count) questions done)")
        }
        let progress = ProgressCounter(label: "predict", total: examples.count, unit: "questions", enabled: showProgress)
        var windowCount = 0
        for chunk in chunks.dropFirst(journal.finished.count) {
            let part = Array(examples[chunk])
            let (windows, _) = builder.windows(for: part)
            windowCount += windows.count
            let predictions = decoder.decode(examples: part, windows: windows, scores: try scores(windows))
            try journal.append(predictions)
            progress.update(chunk.upperBound)
            try afterChunk?(journal.finished.count)
        }
        progress.finish()
        let predictions = Array(journal.finished.joined())
        let files = try PredictionWriter.write(predictions, to: directory)
        journal.remove()
        var answers: [String: String] = [:]
        for prediction in predictions { answers[prediction.key] = prediction.text }
        let score = DatasetEvaluation.evaluate(dataset, predictions: answers)
        return DatasetPrediction(dataset: dataset, predictions: predictions, score: score, files: files,
                                 windows: windowCount, seconds: Date().timeIntervalSince(started))
    }

    /// What the predictions of `file` depend on, for the journal: the caller's `runFingerprint` (model
    /// weights, precision), the window, decoder and batch settings, the chunking, and the file's identity.
    func fingerprint(of file: URL) -> String {
        Training.fingerprint([runFingerprint, "\(builder.settings)", "\(decoder.settings)", "batch \(batchSize)",
                              "chunk \(chunkQuestions)", Predictor.identity(of: file)].joined(separator: "|"))
    }

    /// A file's path, size and modification time ("path|size|mtime"): what says it is still the same file.
    public static func identity(of file: URL) -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
        let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(file.path)|\(size)|\(modified)"
    }

    /// Where the predictions of `file` go: `out` itself for a single file, else `out/<file stem>`.
    public static func directory(for file: URL, among files: [URL], out: URL) -> URL {
        files.count == 1 ? out : out.appendingPathComponent(DataFile.stem(of: file))
    }
}

extension Predictor {
    /// Predicts every file (into `out`, or `out/<stem>` when there are several), and writes
    /// `eval.json` with each file's EM/F1 into `out`. Returns the report.
    public func predictAll(files: [URL], out: URL, showProgress: Bool? = nil, log: (String) -> Void = { _ in }) throws -> EvaluationReport {
        var scores: [DatasetScore] = []
        for file in files {
            let result = try predict(file: file, into: Predictor.directory(for: file, among: files, out: out), showProgress: showProgress)
            log(String(format: "%@: %d questions, %d windows in %.1f s: EM %.2f, F1 %.2f", file.lastPathComponent,
                       result.dataset.examples.count, result.windows, result.seconds, result.score.exactMatch, result.score.f1))
            scores.append(result.score)
        }
        let report = EvaluationReport(predictionsFile: out.path, datasets: scores, groups: [])
        do {
            try Data(report.json.utf8).write(to: out.appendingPathComponent("eval.json"), options: .atomic)
        } catch {
            throw TrainingError.io("cannot write \(out.appendingPathComponent("eval.json").path): \(error.localizedDescription)")
        }
        return report
    }
}
