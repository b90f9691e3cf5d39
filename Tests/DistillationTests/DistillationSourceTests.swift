import Distillation
import Foundation
import MRC
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
}
