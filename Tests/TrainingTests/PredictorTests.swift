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
}
