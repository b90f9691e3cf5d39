import Foundation
import MRC
import TestSupport
import Text
import XCTest
@testable import Training

final class PredictorTests: XCTestCase {
    /// Batching windows of different lengths together (sorted, padded, then put back in order) must
    /// give every window the logits it gets alone, unpadded.
    func testBatchedScoresEqualOneWindowAtATime() throws {
        let directory = TestPaths.fixture("training/tiny_qa_parity")
        let model = try BertSpanTrainable(directory: directory)
        let tokenizer = try WordPieceTokenizer(vocabFile: directory.appendingPathComponent("vocab.txt"))
        let settings = WindowSettings(maxSeqLen: 32, docStride: 8, maxQueryLen: 8)
        let dataset = try MRCReader.read(TestPaths.fixture("training/tiny_squad.json"))
        let examples = Array(dataset.examples.prefix(12))
        let windows = try WindowBuilder(tokenizer: tokenizer, settings: settings).windows(for: examples).windows
        XCTAssertGreaterThanOrEqual(Set(windows.map(\.length)).count, 3, "the windows must differ in length")
        let batched = try Predictor(model: model.model, tokenizer: tokenizer, windowSettings: settings,
                                    decoderSettings: SpanDecoderSettings(), batchSize: 5).scores(windows)
        let single = try Predictor(model: model.model, tokenizer: tokenizer, windowSettings: settings,
                                   decoderSettings: SpanDecoderSettings(), batchSize: 1)
        for (index, window) in windows.enumerated() {
            let alone = try single.scores([window])[0]
            XCTAssertEqual(batched[index].startLogits.count, window.length)
            for t in 0..<window.length {
                XCTAssertEqual(batched[index].startLogits[t], alone.startLogits[t], accuracy: 1e-4, "window \(index) token \(t)")
                XCTAssertEqual(batched[index].endLogits[t], alone.endLogits[t], accuracy: 1e-4, "window \(index) token \(t)")
            }
        }
    }

    /// A prediction run stopped after some chunks resumes from its journal, skips the finished chunks (a line cut
    /// short by the kill is dropped) and writes the same files, byte for byte, as a run that was never stopped;
    /// other settings start over; the journal is gone once the files are written.
    func testStoppedPredictionResumesFromItsJournal() throws {
        let directory = TestPaths.fixture("training/tiny_qa_parity")
        let model = try BertSpanTrainable(directory: directory)
        let tokenizer = try WordPieceTokenizer(vocabFile: directory.appendingPathComponent("vocab.txt"))
        let data = TestPaths.fixture("training/tiny_squad.json")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-journal-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        func predictor(batchSize: Int = 4) throws -> Predictor {
            let predictor = try Predictor(model: model.model, tokenizer: tokenizer, windowSettings: WindowSettings(maxSeqLen: 32, docStride: 8, maxQueryLen: 8),
                                          decoderSettings: SpanDecoderSettings(), batchSize: batchSize)
            predictor.chunkQuestions = 5
            predictor.runFingerprint = "tiny_qa_parity weights"
            return predictor
        }
        let whole = try predictor().predict(file: data, into: out.appendingPathComponent("whole"), showProgress: false)
        let chunks = (whole.dataset.examples.count + 4) / 5
        XCTAssertGreaterThanOrEqual(chunks, 4, "the fixture must span several chunks")

        struct Stop: Error {}
        let stopped = try predictor()
        stopped.afterChunk = { if $0 == 2 { throw Stop() } }
        let target = out.appendingPathComponent("resumed")
        XCTAssertThrowsError(try stopped.predict(file: data, into: target, showProgress: false)) { XCTAssertTrue($0 is Stop) }
        let journal = target.appendingPathComponent("predictions.journal.jsonl")
        let handle = try FileHandle(forWritingTo: journal)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"chunk": 2, "predictions": [{"key": "cut"#.utf8))  // killed mid-line
        try handle.close()

        var messages: [String] = []
        let resumed = try predictor()
        resumed.resumeLog = { messages.append($0) }
        var chunksRun: [Int] = []
        resumed.afterChunk = { chunksRun.append($0) }
        let result = try resumed.predict(file: data, into: target, showProgress: false)
        XCTAssertEqual(messages, ["tiny_squad.json: resuming after 2 of \(chunks) chunks (10 of \(whole.dataset.examples.count) questions done)"])
        XCTAssertEqual(chunksRun, Array(3...chunks), "finished chunks are not redone")
        XCTAssertEqual(result.predictions, whole.predictions)
        for name in ["predictions.json", "nbest_predictions.json"] {
            XCTAssertEqual(try Data(contentsOf: target.appendingPathComponent(name)),
                           try Data(contentsOf: out.appendingPathComponent("whole").appendingPathComponent(name)), name)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: journal.path), "the journal is removed at the end")

        // Other settings (batch size changes the batches, so the bits) start over.
        let other = try predictor(batchSize: 3)
        other.afterChunk = { if $0 == 1 { throw Stop() } }
        XCTAssertThrowsError(try other.predict(file: data, into: target, showProgress: false))
        let restarted = try predictor()
        var restartMessages: [String] = []
        restarted.resumeLog = { restartMessages.append($0) }
        _ = try restarted.predict(file: data, into: target, showProgress: false)
        XCTAssertEqual(restartMessages, [], "a journal of other settings is not resumed")

        // Without a run fingerprint (a dev evaluation inside training, whose weights change) nothing is resumed.
        let anonymous = try predictor()
        anonymous.afterChunk = { if $0 == 1 { throw Stop() } }
        XCTAssertThrowsError(try anonymous.predict(file: data, into: target, showProgress: false))
        let again = try predictor()
        again.runFingerprint = ""
        var anonymousMessages: [String] = []
        again.resumeLog = { anonymousMessages.append($0) }
        XCTAssertEqual(try again.predict(file: data, into: target, showProgress: false).predictions, whole.predictions)
        XCTAssertEqual(anonymousMessages, [], "no run fingerprint: never resumed")
    }
}
