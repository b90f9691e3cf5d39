import Checkpoint
import Foundation
import Model
import TestSupport
import XCTest

/// A tiny random BertForMaskedLM (decoder tied to the word embeddings) against PyTorch:
/// fixtures/model/tiny_mlm.safetensors from scripts/fixtures/make_model_fixtures.py.
final class TinyMLMParityTests: XCTestCase {
    func testLogitsLossAndEveryGradientMatchPyTorch() throws {
        let loaded = try ModelDirectory.load(TestPaths.fixture("model/tiny_mlm_model"), spanHead: .omit, mlmHead: .require)
        let model = loaded.model
        XCTAssertEqual(model.heads, [.mlm])
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/tiny_mlm.safetensors"))
        let batch = try fixtureBatch(fixture)
        let positions = try fixture.int32s("masked_positions")
        let allLabels = try fixture.int32s("labels")
        let labels = positions.map { allLabels[Int($0)] }
        XCTAssertTrue(labels.allSatisfy { $0 >= 0 })
        XCTAssertEqual(allLabels.filter { $0 >= 0 }.count, positions.count, "every labelled token is a masked position")

        let logits = Array(try model.forwardMLM(batch, maskedPositions: positions))
        XCTAssertLessThanOrEqual(maxAbsDifference(logits, try fixture.floats("masked_logits")), 1e-5)

        model.zeroGradients()
        let loss = try model.mlmLossStep(batch, maskedPositions: positions, labels: labels)
        let expected = try fixture.floats("loss")[0]
        XCTAssertEqual(loss, expected, accuracy: 1e-5 * abs(expected))
        try assertGradientsMatch(model, fixture: fixture)
    }

    /// Positions labelled -100 count neither in the loss nor in its average.
    func testIgnoredLabelsAreLeftOut() throws {
        let vocab = 5
        let logits: [Float] = [1, 2, 3, 4, 5, 9, 9, 9, 9, 9, 0, 0, 1, 0, 0]
        let full = try logits.withUnsafeBufferPointer { try MLMLoss.compute(logits: $0, labels: [4, -100, 2], vocab: vocab, dLogits: nil) }
        let first = try Array(logits[0..<5]).withUnsafeBufferPointer { try MLMLoss.compute(logits: $0, labels: [4], vocab: vocab, dLogits: nil) }
        let third = try Array(logits[10..<15]).withUnsafeBufferPointer { try MLMLoss.compute(logits: $0, labels: [2], vocab: vocab, dLogits: nil) }
        XCTAssertEqual(full, (first + third) / 2, accuracy: 1e-6)
        XCTAssertThrowsError(try logits.withUnsafeBufferPointer { try MLMLoss.compute(logits: $0, labels: [-100, -100, -100], vocab: vocab, dLogits: nil) })
        XCTAssertThrowsError(try logits.withUnsafeBufferPointer { try MLMLoss.compute(logits: $0, labels: [5, 0, 0], vocab: vocab, dLogits: nil) })
    }
}
