import Foundation
import MRC
import TestSupport
import Text
import XCTest
@testable import Model
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

    /// The longest batch runs first, so the activation arena is sized (and zeroed) once for the whole run, not
    /// again at nearly every batch as the lengths grow.
    func testBatchesRunLongestFirstAndSizeTheArenaOnce() throws {
        let directory = TestPaths.fixture("training/tiny_qa_parity")
        let model = try BertSpanTrainable(directory: directory).model
        let tokenizer = try WordPieceTokenizer(vocabFile: directory.appendingPathComponent("vocab.txt"))
        let settings = WindowSettings(maxSeqLen: 64, docStride: 16, maxQueryLen: 16)
        let dataset = try MRCReader.read(TestPaths.fixture("training/tiny_squad.json"))
        let windows = try WindowBuilder(tokenizer: tokenizer, settings: settings).windows(for: dataset.examples).windows
        let widths = Set(windows.map { ($0.length + 7) / 8 * 8 })
        XCTAssertGreaterThanOrEqual(widths.count, 2, "the batches must differ in width")
        let before = model.activations.allocations
        _ = try ModelScorer(model: model, batchSize: 2).scores(windows)
        XCTAssertEqual(model.activations.allocations - before, before == 0 ? 1 : 0, "one arena for every batch")
        XCTAssertEqual(model.activations.tokenCapacity, 2 * widths.max()!)
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

    /// On SQuAD 2.0 data the predictor abstains by default: threshold 0.0 on null score − best span score
    /// (run_qa's version_2_with_negative), every question's null odds in null_odds.json, and the official
    /// v2.0 best_exact/best_f1 with their thresholds in the score; an explicit threshold still rules.
    func testSQuAD2DataAbstainsByDefaultAndWritesNullOdds() throws {
        let directory = TestPaths.fixture("training/tiny_qa_parity")
        let model = try BertSpanTrainable(directory: directory)
        let tokenizer = try WordPieceTokenizer(vocabFile: directory.appendingPathComponent("vocab.txt"))
        // The tiny SQuAD file as v2.0, every third question made unanswerable.
        var counter = 0
        var json = try SQuADFixtureEditing.mapQuestions(of: TestPaths.fixture("training/tiny_squad.json")) { qa in
            var qa = qa
            counter += 1
            qa["is_impossible"] = counter % 3 == 0
            if counter % 3 == 0 { qa["plausible_answers"] = qa["answers"]; qa["answers"] = [] }
            return qa
        }
        json["version"] = "v2.0"
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-squad2-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let data = out.appendingPathComponent("tiny-v2.json")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: json).write(to: data)
        func predictor(_ threshold: Double?) throws -> Predictor {
            try Predictor(model: model.model, tokenizer: tokenizer, windowSettings: WindowSettings(maxSeqLen: 32, docStride: 8, maxQueryLen: 8),
                          decoderSettings: SpanDecoderSettings(nullScoreThreshold: threshold), batchSize: 8)
        }
        let result = try predictor(nil).predict(file: data, into: out.appendingPathComponent("default"), showProgress: false)
        XCTAssertEqual(result.dataset.format, .squad2)
        let odds = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("default/null_odds.json"))) as? [String: Double])
        XCTAssertEqual(odds.count, result.dataset.examples.count, "null odds for every question")
        for prediction in result.predictions {
            let difference = try XCTUnwrap(odds[prediction.key])
            XCTAssertEqual(prediction.text.isEmpty, difference > 0, "\(prediction.key): abstains exactly when the null score wins")
        }
        XCTAssertNotNil(result.score.squad2?.best, "best_exact / best_f1 from the null odds")
        // The default is the explicit threshold 0, file for file.
        _ = try predictor(0).predict(file: data, into: out.appendingPathComponent("zero"), showProgress: false)
        for name in ["predictions.json", "nbest_predictions.json", "null_odds.json"] {
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("default/\(name)")),
                           try Data(contentsOf: out.appendingPathComponent("zero/\(name)")), name)
        }
        // At the median null odds the predictor abstains on half the questions, exactly where the odds exceed it.
        let differences = Dictionary(uniqueKeysWithValues: result.predictions.map { ($0.key, $0.nullScoreDifference!) })
        let median = differences.values.sorted()[differences.count / 2]
        let halved = try predictor(median).predict(file: data, into: out.appendingPathComponent("median"), showProgress: false)
        for prediction in halved.predictions {
            XCTAssertEqual(prediction.text.isEmpty, differences[prediction.key]! > median, prediction.key)
        }
        XCTAssertGreaterThan(halved.predictions.filter(\.text.isEmpty).count, 0)
        let answered = try predictor(1e9).predict(file: data, into: out.appendingPathComponent("explicit"), showProgress: false)
        XCTAssertTrue(answered.predictions.allSatisfy { !$0.text.isEmpty }, "an explicit threshold still rules")
        let v1 = try predictor(nil).predict(file: TestPaths.fixture("training/tiny_squad.json"), into: out.appendingPathComponent("v1"),
                                            showProgress: false)
        XCTAssertTrue(v1.predictions.allSatisfy { !$0.text.isEmpty && $0.nullScoreDifference == nil }, "v1.1 data never abstains")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("v1/null_odds.json").path))
    }
}
