import Distillation
import Foundation
import MRC
import Model
import TestSupport
import Training
import XCTest

/// `teach` produces the windows a chunk of questions at a time; `distill` collects them all. Both must see the
/// same windows in the same order, and the streamed survey must give the collected data's count and fingerprint,
/// whatever the chunk size (chunks that cut paragraphs, files, and windows of one question apart).
final class DistillationSourceTests: XCTestCase {
    func testChunkedWindowsAreTheCollectedOnesAndTheSurveyAgrees() throws {
        let files = [TestPaths.sharedData("squad/dev-v1.1.json"), TestPaths.fixture("training/tiny_squad.json")]
        let settings = WindowSettings(maxSeqLen: 96, docStride: 32, maxQueryLen: 24)
        let tokenizer = try DistillationTestSupport.tokenizer()
        let data = try DistillationData.load(files: files, tokenizer: tokenizer, settings: settings)
        let source = try DistillationSource.read(files: files, tokenizer: tokenizer, settings: settings)
        XCTAssertGreaterThan(data.windows.count, data.examples.count, "questions must span several windows")
        for chunk in [1, 7, 512] {
            var windows: [Window] = []
            let summaries = try source.forEachWindowChunk(chunkQuestions: chunk) { windows += $0 }
            XCTAssertEqual(windows.count, data.windows.count, "chunk \(chunk)")
            for (streamed, collected) in zip(windows, data.windows) {
                XCTAssertEqual(streamed.exampleIndex, collected.exampleIndex)
                XCTAssertEqual(streamed.windowIndex, collected.windowIndex)
                XCTAssertEqual(streamed.inputIds, collected.inputIds)
                XCTAssertEqual(streamed.startPosition, collected.startPosition)
            }
            XCTAssertEqual(zip(source.readerSummaries, summaries).flatMap { [$0, $1] }, data.summaries, "chunk \(chunk)")
        }
        let survey = try source.survey()
        XCTAssertEqual(survey.count, data.windows.count)
        XCTAssertEqual(survey.fingerprint, data.fingerprint)
        XCTAssertEqual(survey.summaries, data.summaries)
    }

    /// Transfer files come after the training files; every window of theirs is kept without gold (even those
    /// holding the answer, which a training file labels), so the span loss ignores them; the survey agrees.
    func testTransferFilesKeepEveryWindowWithoutGold() throws {
        let settings = WindowSettings(maxSeqLen: 32, docStride: 8, maxQueryLen: 8)
        let tokenizer = try DistillationTestSupport.tokenizer()
        let v2 = TestPaths.fixture("training/tiny_squad_v2.json"), v1 = TestPaths.fixture("training/tiny_squad.json")
        let gold = try DistillationData.load(files: [v1], tokenizer: tokenizer, settings: settings)
        let plain = try DistillationData.load(files: [v2], tokenizer: tokenizer, settings: settings)
        let data = try DistillationData.load(files: [v2], transfer: [v1], tokenizer: tokenizer, settings: settings)
        XCTAssertGreaterThan(gold.windows.filter { $0.label == .inWindow }.count, 0)
        XCTAssertEqual(data.windows.count, plain.windows.count + gold.windows.count)
        XCTAssertEqual(data.transferWindows, gold.windows.count)
        XCTAssertEqual(plain.transferWindows, 0)
        for (index, window) in data.windows.enumerated() {
            let transfer = index >= plain.windows.count
            let other = transfer ? gold.windows[index - plain.windows.count] : plain.windows[index]
            XCTAssertEqual(window.inputIds, other.inputIds, "window \(index)")
            XCTAssertEqual(data.key(index), transfer ? gold.key(index - plain.windows.count) : plain.key(index))
            let training = data.trainingWindows[index]
            if transfer {
                XCTAssertEqual(window.label, .unlabelled)
                XCTAssertEqual([training.startPosition, training.endPosition], [SpanLoss.ignoredPosition, SpanLoss.ignoredPosition])
            } else {
                XCTAssertEqual([training.startPosition, training.endPosition], [Int32(other.startPosition), Int32(other.endPosition)])
            }
        }
        XCTAssertTrue(data.summaries[2].hasSuffix("(transfer set: gold not used)"), data.summaries[2])
        XCTAssertTrue(data.summaries[3].contains("0 unlabelled"), "a transfer file's questions are not counted as skipped: \(data.summaries[3])")
        let survey = try DistillationSource.read(files: [v2], transfer: [v1], tokenizer: tokenizer, settings: settings).survey()
        XCTAssertEqual(survey.count, data.windows.count)
        XCTAssertEqual(survey.fingerprint, data.fingerprint)
        XCTAssertNotEqual(survey.fingerprint, plain.fingerprint)
    }
}
