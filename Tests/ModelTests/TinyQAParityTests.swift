import Checkpoint
import Foundation
import Kernels
import Model
import TestSupport
import XCTest

/// A tiny random BertForQuestionAnswering (2 layers, hidden 32, 4 heads, padded batch) against PyTorch:
/// fixtures/model/tiny_qa.safetensors from scripts/fixtures/make_model_fixtures.py.
final class TinyQAParityTests: XCTestCase {
    private func load() throws -> (BertModel, SafeTensorsFile, EncoderBatch) {
        let loaded = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require)
        XCTAssertEqual(loaded.initialised, [])
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/tiny_qa.safetensors"))
        return (loaded.model, fixture, try fixtureBatch(fixture))
    }

    func testLogitsMatchPyTorch() throws {
        let (model, fixture, batch) = try load()
        let logits = try model.forward(batch)
        let startError = maxAbsDifference(logits.start, try fixture.floats("start_logits"))
        let endError = maxAbsDifference(logits.end, try fixture.floats("end_logits"))
        XCTAssertLessThanOrEqual(startError, 1e-5)
        XCTAssertLessThanOrEqual(endError, 1e-5)
        // The fixture's logits are not trivially small: the check above means something.
        XCTAssertGreaterThan(try fixture.floats("start_logits").map(abs).max()!, 0.5)
    }

    func testMaskedLossAndEveryGradientMatchPyTorch() throws {
        let (model, fixture, batch) = try load()
        model.zeroGradients()
        let loss = try model.spanLossStep(batch, startPositions: try fixture.int32s("start_positions"),
                                          endPositions: try fixture.int32s("end_positions"))
        let expected = try fixture.floats("masked_loss")[0]
        XCTAssertEqual(loss, expected, accuracy: 1e-5 * abs(expected))
        try assertGradientsMatch(model, fixture: fixture)
    }

    /// Without padding masking (every position counted) the loss is Hugging Face's own.
    func testUnmaskedLossIsHuggingFaceLoss() throws {
        let (model, fixture, batch) = try load()
        let logits = try model.forward(batch)
        let result = try SpanLoss.compute(logits, attentionMask: [Int32](repeating: 1, count: batch.tokenCount),
                                          startPositions: try fixture.int32s("start_positions"),
                                          endPositions: try fixture.int32s("end_positions"))
        let expected = try fixture.floats("hf_loss")[0]
        XCTAssertEqual(result.loss, expected, accuracy: 1e-5 * abs(expected))
        XCTAssertNotEqual(result.loss, try fixture.floats("masked_loss")[0], accuracy: 1e-3, "the fixture batch must have padding")
    }

    /// Gradients accumulate: two backward passes give twice the gradient.
    func testGradientsAccumulateUntilZeroed() throws {
        let (model, fixture, batch) = try load()
        let starts = try fixture.int32s("start_positions"), ends = try fixture.int32s("end_positions")
        model.zeroGradients()
        _ = try model.spanLossStep(batch, startPositions: starts, endPositions: ends)
        let once = model.gradients.clone()
        _ = try model.spanLossStep(batch, startPositions: starts, endPositions: ends)
        for i in stride(from: 0, to: model.layout.count, by: 7) {
            XCTAssertEqual(model.gradients.pointer[i], 2 * once.pointer[i], accuracy: 1e-6 + 1e-5 * abs(once.pointer[i]))
        }
        model.zeroGradients()
        XCTAssertTrue(model.gradients.buffer.allSatisfy { $0 == 0 })
    }

    /// A student that keeps layer 1 of the 2 gives the logits PyTorch gives for the same surgery.
    func testLayerSelectionMatchesPyTorch() throws {
        let (model, fixture, batch) = try load()
        let layers = try fixture.int32s("student_layers").map(Int.init)
        let student = try model.selectingLayers(layers)
        XCTAssertEqual(student.config.numHiddenLayers, 1)
        XCTAssertEqual(student.parameters.values("bert.encoder.layer.0.attention.self.key.weight"),
                       model.parameters.values("bert.encoder.layer.1.attention.self.key.weight"))
        let logits = try student.forward(batch)
        XCTAssertLessThanOrEqual(maxAbsDifference(logits.start, try fixture.floats("student_start_logits")), 1e-5)
        XCTAssertLessThanOrEqual(maxAbsDifference(logits.end, try fixture.floats("student_end_logits")), 1e-5)
        XCTAssertThrowsError(try model.selectingLayers([0, 2]))
        XCTAssertThrowsError(try model.selectingLayers([]))
    }
}
