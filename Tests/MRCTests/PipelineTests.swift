import Foundation
@testable import MRC
import XCTest

/// Readers → windows → decoder → prediction files → evaluation, on real SQuAD dev with "oracle" logits
/// that peak at the gold labels: what the data path loses on its own (answers whose characters do not
/// start or end on token boundaries) must be tiny.
final class PipelineTests: XCTestCase {
    func testOracleLogitsRecoverTheGoldAnswers() throws {
        let dataset = try SQuADReader.read(MRCTestData.sharedData("squad/dev-v1.1.json"))
        let builder = try WindowBuilder(tokenizer: MRCTestData.miniLMTokenizer(), settings: WindowSettings(maxSeqLen: 128, docStride: 48))
        let (windows, report) = builder.windows(for: dataset.examples)
        XCTAssertEqual(report.examples, 845)
        XCTAssertGreaterThan(report.windows, 845 * 2, "128-token windows cut most contexts")
        XCTAssertEqual(report.unlabelledExamples, 0)
        let scores = windows.map { window -> SpanScores in
            // [maxSeqLen] logits: high at the labels, a competing decoy on the last context token.
            var start = [Float](repeating: 0, count: window.inputIds.count)
            var end = start
            if window.label == .inWindow {
                start[window.startPosition] = 10
                end[window.endPosition] = 10
            }
            start[window.contextStart + window.contextCount - 1] = 4
            end[window.contextStart + window.contextCount - 1] = 4
            return SpanScores(startLogits: start, endLogits: end)
        }
        // Answers of more than 30 tokens exist in dev (long clauses): allow them here, to isolate the data path.
        let predictions = SpanDecoder(settings: SpanDecoderSettings(maxAnswerLength: 64)).decode(examples: dataset.examples, windows: windows, scores: scores)
        XCTAssertEqual(predictions.count, 845)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-pipeline-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try PredictionWriter.write(predictions, to: directory)
        let answers = try MRCEvaluation.readPredictions(files[0])
        XCTAssertEqual(answers, predictions.answers)
        let score = DatasetEvaluation.evaluate(dataset, predictions: answers)
        XCTAssertEqual(score.missing, 0)
        XCTAssertGreaterThan(score.exactMatch, 99.5)
        XCTAssertGreaterThan(score.f1, 99.5)
        // Where the gold span is token-aligned the text is exactly the gold answer.
        // Where the gold span is token-aligned the text is exactly the gold answer ("gold rush" inside
        // "gold rushes" is not: the decoder can only cut whole tokens).
        let misses = zip(dataset.examples, predictions).filter { $1.text != $0.answerSpans[0].text }
            .map { "\($0.id): \($0.answerSpans[0].text.debugDescription) → \($1.text.debugDescription)" }
        XCTAssertLessThanOrEqual(misses.count, 3, misses.joined(separator: "\n"))
        print("oracle decoding on dev-v1.1 (128/48): EM \(score.exactMatch) F1 \(score.f1); spans missed: \(misses)")
    }
}
